// Command order is the orderbus order service: it takes orders over HTTP,
// stores them in PostgreSQL together with an "order placed" event in the
// transactional outbox, and publishes that event to NATS JetStream.
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

	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/config"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/pgdb"
	"github.com/orderbus/orderbus/pkg/web"
)

// eventSource is the CloudEvents source of every event this service publishes.
const eventSource = "/orderbus/order"

// serviceName names the NATS connection and the service in logs.
const serviceName = "order"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "order: %v\n", err)
		stop()
		os.Exit(1)
	}
}

// run starts the service and blocks until ctx is done, then shuts down in
// order: HTTP first (in-flight requests finish), then the outbox relay, then
// the NATS connection (drained), then the database pool. It returns an error
// when the service cannot start or did not stop cleanly.
func run(ctx context.Context, _ []string, getenv func(string) string, stdout, _ io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("load config: %w", err)
	}
	logger, err := config.NewLogger(stdout, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return fmt.Errorf("create logger: %w", err)
	}
	logger = logger.With("service", serviceName)
	logger.Info("starting", "config", cfg)

	pool, err := pgdb.OpenWait(ctx, logger, cfg.DatabaseURL, databaseWaitTimeout)
	if err != nil {
		return err
	}
	defer pool.Close()
	sets, err := migrationSets()
	if err != nil {
		return err
	}
	if err := pgdb.Migrate(ctx, pool, sets...); err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}

	nc, err := natsjs.Connect(ctx, cfg.NATSURL, serviceName, logger)
	if err != nil {
		return fmt.Errorf("connect to nats: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return fmt.Errorf("create jetstream context: %w", err)
	}

	reg := web.NewRegistry()
	relay, err := outbox.NewRelay(outbox.RelayConfig{
		Pool:      pool,
		Publisher: natsjs.NewPublisher(js),
		Logger:    logger,
		Interval:  cfg.OutboxInterval,
		Metrics:   reg,
	})
	if err != nil {
		nc.Close()
		return fmt.Errorf("create outbox relay: %w", err)
	}

	// The background work outlives ctx until HTTP has stopped, so that a
	// request still in flight at SIGTERM has its event published.
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()
	var wg sync.WaitGroup
	streams := natsjs.NewStreamSetup(js, logger, events.Streams()...)
	wg.Go(func() { streams.Run(bgCtx) })
	wg.Go(func() {
		if err := relay.Run(bgCtx); err != nil && !errors.Is(err, context.Canceled) {
			logger.Error("outbox relay stopped", "error", err)
		}
	})

	handler := newServer(logger, serverDeps{
		store:    &Store{pool: pool},
		relay:    relay,
		nc:       nc,
		metrics:  newMetrics(reg),
		registry: reg,
		checks: map[string]web.Check{
			"postgres": pool.Ping,
			"nats":     natsjs.ReadyCheck(nc, js, streams),
		},
		publishTimeout: cfg.PublishTimeout,
	})
	serveErr := web.Serve(ctx, logger, cfg.HTTPAddr, handler, cfg.ShutdownTimeout)

	stopBackground()
	wg.Wait()
	logger.Info("outbox relay stopped")
	drainErr := natsjs.Drain(nc, cfg.ShutdownTimeout)
	if drainErr == nil {
		logger.Info("nats connection drained")
	}
	logger.Info("stopped")
	return errors.Join(serveErr, drainErr)
}
