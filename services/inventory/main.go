// Command inventory is the orderbus inventory service: it consumes
// orders.placed from JetStream and reserves each order's stock in
// PostgreSQL, all or nothing and at most once per order, then announces
// the result (inventory.reserved or inventory.rejected) through its
// transactional outbox. Its HTTP API shows and sets stock levels.
// Configuration is read from the environment (see Config); logs go to
// stdout.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/config"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/pgdb"
	"github.com/orderbus/orderbus/pkg/web"
)

// eventSource is the CloudEvents source of every event this service publishes.
const eventSource = "/orderbus/inventory"

// serviceName names the NATS connection and the service in logs.
const serviceName = "inventory"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "inventory: %v\n", err)
		os.Exit(1)
	}
}

// run starts the service and blocks until ctx is done, then shuts down:
// HTTP stops and the consumers stop fetching and finish the messages in
// flight (both within SHUTDOWN_TIMEOUT), then the outbox relay stops, the
// NATS connection is drained and the database pool closed. It returns an
// error when the service cannot start or a component fails; nil after a
// clean shutdown. Logs go to stdout; stderr is for main.
func run(ctx context.Context, _ []string, getenv func(string) string, stdout, _ io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	logger, err := config.NewLogger(stdout, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return fmt.Errorf("logger: %w", err)
	}
	logger = logger.With("service", serviceName)
	logger.Info("starting", "config", cfg)

	sets, err := migrationSets()
	if err != nil {
		return err
	}
	pool, err := pgdb.OpenWait(ctx, logger, cfg.DatabaseURL, databaseWaitTimeout)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := pgdb.Migrate(ctx, pool, sets...); err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	store := newStore(pool)

	nc, err := natsjs.Connect(ctx, cfg.NATSURL, serviceName, logger)
	if err != nil {
		return fmt.Errorf("connect to nats: %w", err)
	}
	defer nc.Close() // a no-op after the drain below
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	streams := natsjs.NewStreamSetup(js, logger, events.Streams()...)

	reg := web.NewRegistry()
	metrics, err := newReservationMetrics(reg)
	if err != nil {
		return err
	}
	relay, err := outbox.NewRelay(outbox.RelayConfig{
		Pool:      pool,
		Publisher: natsjs.NewPublisher(js),
		Logger:    logger,
		Interval:  cfg.OutboxInterval,
		Metrics:   reg,
	})
	if err != nil {
		return fmt.Errorf("create outbox relay: %w", err)
	}
	var consumers []*natsjs.Consumer
	for _, s := range subscriptions(logger, store, relay, metrics, cfg.PublishTimeout) {
		c, err := natsjs.NewConsumer(consumerSetupContext(ctx, nc), js, s.consumerConfig(cfg, logger, reg), s.handler())
		if err != nil {
			return fmt.Errorf("consumer %s: %w", s.durable, err)
		}
		consumers = append(consumers, c)
	}
	srv := newServer(logger, serverDeps{
		store:    store,
		registry: reg,
		checks: map[string]web.Check{
			"postgres": store.Ping,
			"nats":     natsjs.ReadyCheck(nc, js, streams),
		},
	})

	// The stream setup and the relay outlive the consumers, so that a
	// message in flight at SIGTERM still has its result published.
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()
	var background sync.WaitGroup
	background.Go(func() { streams.Run(bgCtx) })
	background.Go(func() {
		if err := relay.Run(bgCtx); err != nil {
			logger.Error("outbox relay stopped", "error", err)
		}
	})

	// A component that fails ends them all.
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, len(consumers)+1)
	goRun := func(name string, f func(context.Context) error) {
		wg.Go(func() {
			if err := f(runCtx); err != nil {
				errc <- fmt.Errorf("%s: %w", name, err)
				cancel()
			}
		})
	}
	for _, c := range consumers {
		goRun("consumer", c.Run)
	}
	goRun("http", func(ctx context.Context) error {
		return web.Serve(ctx, logger, cfg.HTTPAddr, srv, cfg.ShutdownTimeout)
	})

	<-runCtx.Done()
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	shutdownCtx, cancelShutdown := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancelShutdown()
	var errs []error
	if err := waitGroup(shutdownCtx, &wg); err != nil {
		errs = append(errs, fmt.Errorf("wait for in-flight work: %w", err))
	}
	for len(errc) > 0 {
		errs = append(errs, <-errc)
	}
	stopBackground()
	if err := waitGroup(shutdownCtx, &background); err != nil {
		errs = append(errs, fmt.Errorf("wait for the outbox relay: %w", err))
	} else {
		logger.Info("outbox relay stopped")
	}
	if err := natsjs.Drain(nc, cfg.ShutdownTimeout); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		logger.Info("stopped")
	}
	return errors.Join(errs...)
}

// consumerSetupContext is the context for natsjs.NewConsumer's request to
// create the durable consumer. While NATS is not connected nobody would
// answer it, and NewConsumer would wait for JetStream's request timeout;
// the context is then already done, so that start-up does not wait for the
// broker: the consumer's Run creates the durable once NATS is back.
func consumerSetupContext(ctx context.Context, nc *nats.Conn) context.Context {
	if nc.IsConnected() {
		return ctx
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	return done
}

// waitGroup waits for wg until ctx ends.
func waitGroup(ctx context.Context, wg *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
