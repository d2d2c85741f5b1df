// Command sms is the orderbus SMS service: it consumes orders.placed from
// JetStream and texts the customer that the order was received, through a
// provider chosen by SMS_PROVIDER (log, webhook or twilio), at most once
// per event as far as its database can tell (see handleOrderPlaced), and
// keeps a record of every message. As a GDPR erasure participant it
// deletes a customer's records on request and answers through its
// transactional outbox. Configuration is read from the environment (see
// Config); logs go to stdout.
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
// gdpr service lists it), its erasure durable "sms-erasure", its NATS
// connection and its logs.
const serviceName = "sms"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "sms: %v\n", err)
		os.Exit(1)
	}
}

// run starts the service and blocks until ctx is done, then shuts down in
// order (see shutdown). It returns an error when the service cannot start
// (an invalid configuration, such as a provider without its settings) or
// a component fails; nil after a clean shutdown. Logs go to stdout; stderr
// is for main.
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

	hc := newHTTPClient(cfg.providerTimeout(), cfg.Concurrency)
	hc.Transport = tel.HTTPTransport(hc.Transport) // a client span per provider call
	provider, err := newProvider(cfg, hc, logger)
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
	metrics, err := newSMSMetrics(reg, provider.Name())
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
	subs := subscriptions(logger, store, relay, guard, js, provider, metrics)
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
		lifecycle.Stage{Name: "provider connections", Stop: func(context.Context) error {
			hc.CloseIdleConnections()
			return nil
		}},
		natsjs.DrainStage(nc))
}
