// Command gdpr is the orderbus erasure coordinator. POST /v1/erasures
// stores an erasure request for a customer and publishes
// gdpr.erasure.requested through the transactional outbox; every
// participant (GDPR_PARTICIPANTS: order, email, sms, inventory) erases the
// customer's personal data and answers on gdpr.erasure.completed.<service>.
// When all have answered, the service purges the customer's messages from
// the ORDERS, INVENTORY and DLQ streams and marks the erasure completed.
// It keeps an audit record of each erasure and no personal data besides
// the customer id the erasure is about. Configuration is read from the
// environment (see Config); logs go to stdout.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/orderbus/orderbus/pkg/config"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/lifecycle"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/pgdb"
	"github.com/orderbus/orderbus/pkg/telemetry"
	"github.com/orderbus/orderbus/pkg/web"
)

// eventSource is the CloudEvents source of every event this service publishes.
const eventSource = "/orderbus/gdpr"

// serviceName names the NATS connection and the service in logs.
const serviceName = "gdpr"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "gdpr: %v\n", err)
		os.Exit(1)
	}
}

// run starts the service and blocks until ctx is done, then shuts down in
// order (see shutdown). Start-up waits for PostgreSQL but not for NATS:
// while the broker is down erasures are accepted and published later. It
// returns an error when the service cannot start or a component fails;
// nil after a clean shutdown. Logs go to stdout; stderr is for main.
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
	defer nc.Close() // a no-op after the drain in shutdown
	streams := natsjs.NewStreamSetup(js, logger, events.Streams(cfg.Retention)...)
	streams.Manages = events.ManagedBy(serviceName) // waits for the others' streams

	reg := web.NewRegistry()
	m, err := newMetrics(reg, store)
	if err != nil {
		return err
	}
	relay, err := outbox.NewRelay(cfg.RelayConfig(pool, natsjs.NewPublisher(js), logger, reg, tel))
	if err != nil {
		return fmt.Errorf("create outbox relay: %w", err)
	}
	comp := &completer{store: store, purge: (&purger{js: js}).purge, relay: relay, logger: logger, metrics: m}
	subs := subscriptions(logger, store, comp, m)
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
		store:        store,
		relay:        relay,
		metrics:      m,
		registry:     reg,
		ready:        ready,
		keys:         keys,
		rateLimit:    cfg.RateLimit,
		erasureLimit: cfg.RateLimitErasures,
		participants: cfg.Participants,
	})

	// The stream setup, the relay and the sweep outlive HTTP and the
	// consumer, so that a request in flight at SIGTERM still has its
	// event published.
	background := lifecycle.NewGroup(context.WithoutCancel(ctx))
	defer background.Stop()
	background.Go("stream setup", func(ctx context.Context) error { streams.Run(ctx); return nil })
	background.Go("outbox relay", relay.Run)
	background.Go("readiness", ready.Run)
	background.Go("completion sweep", func(ctx context.Context) error { comp.run(ctx, sweepInterval); return nil })

	// A part that fails stops them all.
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
		parts.Stage("http and consumer"),
		background.Stage("outbox relay and completion sweep"), // publishes the last requests
		natsjs.DrainStage(nc))
}
