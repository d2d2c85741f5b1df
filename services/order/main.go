// Command order is the orderbus order service: it takes orders over HTTP,
// stores them in PostgreSQL together with an "order placed" event in the
// transactional outbox, and publishes that event to NATS JetStream. It
// consumes the inventory's results to confirm or reject each order, and
// announces that with orders.confirmed or orders.rejected. As a
// participant in GDPR erasure it deletes a customer's orders on request.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/orderbus/orderbus/pkg/config"
	"github.com/orderbus/orderbus/pkg/erasure"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/lifecycle"
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
// order: HTTP first (in-flight requests finish), then the consumers
// (inventory results, erasure requests: they stop fetching; in-flight
// messages finish), then the outbox relay, then the NATS connection
// (drained), then the database pool. Start-up waits for PostgreSQL but
// not for NATS: while the broker is down the service takes orders, which
// the relay publishes later, and the consumers start consuming once it is
// back (/readyz answers 200 only then). It returns an error when the
// service cannot start, a consumer stopped for good, or it did not stop
// cleanly.
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

	sets, err := migrationSets()
	if err != nil {
		return err
	}
	limits := pgdb.Limits{StatementTimeout: cfg.DBStatementTimeout, AcquireTimeout: cfg.DBAcquireTimeout}
	pool, err := pgdb.OpenMigrated(ctx, logger, cfg.DatabaseURL, limits, databaseWaitTimeout, sets...)
	if err != nil {
		return err
	}
	defer pool.Close()

	nc, js, err := natsjs.Dial(ctx, cfg.NATSURL, serviceName, logger)
	if err != nil {
		return err
	}
	defer nc.Close() // a no-op after the drain below

	reg := web.NewRegistry()
	relay, err := outbox.NewRelay(outbox.RelayConfig{
		Pool:      pool,
		Publisher: natsjs.NewPublisher(js),
		Logger:    logger,
		Interval:  cfg.OutboxInterval,
		// PublishNow's bound, for the erasure answer (pkg/erasure).
		PublishTimeout: cfg.PublishTimeout,
		Metrics:        reg,
	})
	if err != nil {
		return fmt.Errorf("create outbox relay: %w", err)
	}
	store := &Store{pool: pool}
	m := newMetrics(reg)
	changer := &statusChanger{
		logger: logger, store: store, relay: relay, nc: nc, metrics: m, publishTimeout: cfg.PublishTimeout,
	}
	erasures := erasure.Participant{
		Service: serviceName, Pool: pool, Relay: relay, Erase: eraseCustomer, Logger: logger,
	}
	subs := subscriptions(changer, erasures)
	consumers, err := natsjs.NewConsumers(ctx, js, subs, cfg.ConsumerSettings, cfg.ackWait(), logger, reg)
	if err != nil {
		return err
	}

	// The background work and the consumers outlive ctx, each stopped in
	// turn after HTTP: a request still in flight at SIGTERM has its event
	// published, and the consumers stop before the relay, so that the
	// events of the messages they finish are published too.
	streams := natsjs.NewStreamSetup(js, logger, events.Streams(cfg.Retention)...)
	background := lifecycle.NewGroup(context.WithoutCancel(ctx))
	defer background.Stop()
	background.Go("stream setup", func(ctx context.Context) error { streams.Run(ctx); return nil })
	background.Go("outbox relay", relay.Run)
	consuming := lifecycle.NewGroup(context.WithoutCancel(ctx))
	defer consuming.Stop()
	for _, c := range consumers {
		consuming.Go("consumer", func(ctx context.Context) error {
			err := c.Run(ctx)
			if err != nil {
				logger.Error("consumer stopped", "error", err)
			}
			return err
		})
	}
	// A consumer that stops for good (its connection closed) stops the
	// service, for the supervisor to restart it.
	serveCtx, stopServing := context.WithCancel(ctx)
	defer stopServing()
	context.AfterFunc(consuming.Context(), stopServing)

	handler := newServer(logger, serverDeps{
		store:    store,
		relay:    relay,
		nc:       nc,
		metrics:  m,
		registry: reg,
		checks: map[string]web.Check{
			"postgres":  pool.Ping,
			"nats":      natsjs.ReadyCheck(nc, js, streams),
			"consumers": natsjs.ConsumersCheck(consumers...),
		},
		publishTimeout: cfg.PublishTimeout,
	})
	errs := []error{web.Serve(serveCtx, logger, cfg.HTTPAddr, handler, cfg.ShutdownTimeout)}

	// In order: HTTP has stopped; the consumers finish their messages,
	// the relay publishes what they enqueued, NATS drains; the deferred
	// pool.Close comes last. The consumers' handlers and the relay bound
	// their own work, so they are waited for as long as they take.
	consuming.Stop()
	errs = append(errs, consuming.Wait(context.Background()))
	logger.Info("consumers stopped")
	background.Stop()
	errs = append(errs, background.Wait(context.Background()))
	logger.Info("outbox relay stopped")
	drainErr := natsjs.Drain(nc, cfg.ShutdownTimeout)
	if drainErr == nil {
		logger.Info("nats connection drained")
	}
	logger.Info("stopped")
	return errors.Join(append(errs, drainErr)...)
}
