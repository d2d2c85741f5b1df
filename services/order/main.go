// Command order is the orderbus order service: it takes orders over HTTP,
// stores them in PostgreSQL together with an "order placed" event in the
// transactional outbox, and publishes that event to NATS JetStream. It
// consumes the inventory's results to confirm or reject each order, and
// announces that with orders.confirmed or orders.rejected. As a
// participant in GDPR erasure it deletes a customer's orders on request.
// Configuration is read from the environment (see Config); logs go to
// stdout.
package main

import (
	"context"
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
	"github.com/orderbus/orderbus/pkg/telemetry"
	"github.com/orderbus/orderbus/pkg/web"
)

// eventSource is the CloudEvents source of every event this service publishes.
const eventSource = "/orderbus/order"

// serviceName names the NATS connection and the service in logs.
const serviceName = "order"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "order: %v\n", err)
		os.Exit(1)
	}
}

// run starts the service and blocks until ctx is done or a part (a
// consumer, HTTP) fails, then shuts down: HTTP stops and the consumers
// stop fetching and finish the messages in flight (within
// SHUTDOWN_TIMEOUT), then the outbox relay publishes what they stored and
// stops, the NATS connection is drained and the database pool closed.
// Start-up waits for PostgreSQL, not for NATS: orders are taken while
// the broker is down. It returns an error when the service cannot start or a
// part fails; nil after a clean shutdown. Logs go to stdout.
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
	tel, err := telemetry.Start(ctx, getenv, serviceName, logger)
	if err != nil {
		return err
	}
	defer tel.Stop(ctx, logger)

	sets, err := migrationSets()
	if err != nil {
		return err
	}
	limits := pgdb.Limits{StatementTimeout: cfg.DBStatementTimeout, AcquireTimeout: cfg.DBAcquireTimeout,
		Tracer: tel.PgxTracer()}
	pool, err := pgdb.OpenMigrated(ctx, logger, cfg.DatabaseURL, limits, databaseWaitTimeout, sets...)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := newStore(pool)

	nc, js, err := natsjs.Dial(ctx, cfg.NATSURL, serviceName, logger, natsjs.Auth(cfg.NATS)...)
	if err != nil {
		return err
	}
	defer nc.Close() // a no-op after the drain below
	streams := natsjs.NewStreamSetup(js, logger, events.Streams(cfg.Retention)...)
	streams.Manages = events.ManagedBy(serviceName) // waits for the others' streams

	reg := web.NewRegistry()
	m, err := newMetrics(reg)
	if err != nil {
		return err
	}
	relay, err := outbox.NewRelay(cfg.RelayConfig(pool, natsjs.NewPublisher(js), logger, reg, tel))
	if err != nil {
		return fmt.Errorf("create outbox relay: %w", err)
	}
	guard, err := erasure.NewGuard(pool, reg)
	if err != nil {
		return err
	}
	subs := subscriptions(logger, store, relay, guard, js, m)
	consumers, err := natsjs.NewConsumers(ctx, js, subs, cfg.ConsumerSettings, cfg.ackWait(), logger, reg, tel)
	if err != nil {
		return err
	}
	keys, err := cfg.Auth.Keys()
	if err != nil {
		return fmt.Errorf("auth keys: %w", err)
	}
	ready := web.NewReadiness(map[string]web.Check{
		"postgres":  store.Ping,
		"nats":      natsjs.ReadyCheck(nc, js, streams),
		"consumers": natsjs.ConsumersCheck(consumers...),
	}, web.DefaultReadinessInterval)
	srv := newServer(logger, serverDeps{
		store:    store,
		placer:   newPlacer(logger, store, relay),
		metrics:  m,
		registry: reg,
		ready:    ready,
		keys:     keys,

		rateLimitOrders: cfg.RateLimitOrders,
		rateLimit:       cfg.RateLimit,
		orderTokenTTL:   cfg.OrderTokenTTL,
	})

	// The stream setup and the relay outlive HTTP and the consumers, so
	// that an order or a status change in flight at SIGTERM still has its
	// event published.
	background := lifecycle.NewGroup(context.WithoutCancel(ctx))
	defer background.Stop()
	background.Go("stream setup", func(ctx context.Context) error { streams.Run(ctx); return nil })
	background.Go("outbox relay", relay.Run)
	background.Go("readiness", ready.Run)

	// A part that fails (a consumer whose connection closed for good)
	// stops them all, for the supervisor to restart the service.
	parts := lifecycle.NewGroup(ctx)
	for i, c := range consumers {
		parts.Go("consumer "+subs[i].Durable, c.Run)
	}
	parts.Go("http", func(ctx context.Context) error {
		return web.ServeWith(ctx, logger, cfg.HTTPAddr, tel.HTTPHandler(srv), cfg.ShutdownTimeout, cfg.HTTP)
	})
	parts.Go("debug", func(ctx context.Context) error {
		return web.ServeDebug(ctx, logger, cfg.HTTP.DebugAddr)
	})

	<-parts.Context().Done() // SIGTERM, or a part failed
	return lifecycle.Shutdown(ctx, logger, cfg.ShutdownTimeout,
		parts.Stage("http and consumers"),
		background.Stage("outbox relay"), // publishes the events they stored
		natsjs.DrainStage(nc))
}
