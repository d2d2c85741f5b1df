// Command email is the orderbus email service: it consumes orders.placed
// and orders.rejected from JetStream and mails the customer a receipt or
// an apology over SMTP, at most once per event as far as its database can
// tell (see mailSender.send), and keeps a record of every mail. As a GDPR
// erasure participant it deletes a customer's records on request and
// answers through its transactional outbox.
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

// serviceName names the service: its participant name in erasures (as the
// gdpr service lists it), its erasure durable "email-erasure", its NATS
// connection and its logs.
const serviceName = "email"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "email: %v\n", err)
		os.Exit(1)
	}
}

// run starts the service and blocks until ctx is done, then shuts down in
// order (see shutdown). It returns an error when the service cannot start
// or a component fails; nil after a clean shutdown. Logs go to stdout;
// stderr is for main.
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

	tmpl, err := parseTemplates()
	if err != nil {
		return err
	}
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
	metrics, err := newMailMetrics(reg)
	if err != nil {
		return err
	}
	relay, err := outbox.NewRelay(cfg.RelayConfig(pool, natsjs.NewPublisher(js), logger, reg, tel))
	if err != nil {
		return fmt.Errorf("create outbox relay: %w", err)
	}
	mailer, err := newMailer(cfg, cfg.Concurrency, logger, tel)
	if err != nil {
		return err
	}
	guard, err := erasure.NewGuard(pool, reg)
	if err != nil {
		return err
	}
	subs := subscriptions(logger, store, relay, guard, js, mailer, tmpl, metrics)
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
		registry: reg,
		ready:    ready,
		keys:     keys,
	})

	// The stream setup and the relay outlive the consumers, so that an
	// erasure in flight at SIGTERM still has its answer published.
	background := lifecycle.NewGroup(context.WithoutCancel(ctx))
	defer background.Stop()
	background.Go("stream setup", func(ctx context.Context) error { streams.Run(ctx); return nil })
	background.Go("outbox relay", relay.Run)
	background.Go("readiness", ready.Run)

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
		parts.Stage("http and consumers"),
		background.Stage("outbox relay"), // publishes the answers of the last erasures
		lifecycle.Stage{Name: "smtp connections", Stop: mailer.Close},
		natsjs.DrainStage(nc))
}
