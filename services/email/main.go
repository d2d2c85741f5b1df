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
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/orderbus/orderbus/pkg/config"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/lifecycle"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/pgdb"
	"github.com/orderbus/orderbus/pkg/web"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "email: %v\n", err)
		os.Exit(1)
	}
}

// databaseWaitTimeout bounds how long run waits for PostgreSQL at start
// (it may start at the same time as the service, as in docker compose).
const databaseWaitTimeout = time.Minute

// run starts the service and blocks until ctx is done, then shuts down,
// in order: HTTP stops and the consumers stop fetching and finish the
// messages in flight (both within SHUTDOWN_TIMEOUT); then the outbox relay
// stops, after publishing what the last erasures enqueued; then the SMTP
// connections are closed, the NATS connection drained and the database
// pool closed. It returns an error when the service cannot start or a
// component fails; nil after a clean shutdown. Logs go to stdout; stderr
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

	tmpl, err := parseTemplates()
	if err != nil {
		return err
	}
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
	store := newStore(pool)

	nc, js, err := natsjs.Dial(ctx, cfg.NATSURL, serviceName, logger)
	if err != nil {
		return err
	}
	defer nc.Close() // a no-op after the drain below
	streams := natsjs.NewStreamSetup(js, logger, events.Streams(cfg.Retention)...)

	reg := web.NewRegistry()
	metrics, err := newMailMetrics(reg)
	if err != nil {
		return err
	}
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
	mailer, err := newMailer(cfg, cfg.Concurrency, logger)
	if err != nil {
		return err
	}
	subs := subscriptions(logger, store, relay, cfg.PublishTimeout, mailer, tmpl, metrics)
	consumers, err := natsjs.NewConsumers(ctx, js, subs, cfg.ConsumerSettings, cfg.ackWait(), logger, reg)
	if err != nil {
		return err
	}

	checks := map[string]web.Check{
		"postgres":  store.Ping,
		"nats":      natsjs.ReadyCheck(nc, js, streams),
		"consumers": natsjs.ConsumersCheck(consumers...),
	}
	srv := newServer(logger, reg, store, checks)

	// The stream setup and the relay outlive the consumers, so that an
	// erasure in flight at SIGTERM still has its answer published.
	background := lifecycle.NewGroup(context.WithoutCancel(ctx))
	defer background.Stop()
	background.Go("stream setup", func(ctx context.Context) error { streams.Run(ctx); return nil })
	background.Go("outbox relay", relay.Run)

	// A part that fails stops them all.
	parts := lifecycle.NewGroup(ctx)
	for i, c := range consumers {
		parts.Go("consumer "+subs[i].Durable, c.Run)
	}
	parts.Go("http", func(ctx context.Context) error {
		return web.Serve(ctx, logger, cfg.HTTPAddr, srv, cfg.ShutdownTimeout)
	})

	<-parts.Context().Done() // SIGTERM, or a part failed
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	shutdownCtx, cancelShutdown := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancelShutdown()
	// In order: HTTP and the consumers finish; the relay stops (after
	// publishing the answers they enqueued); the SMTP connections close;
	// NATS drains; the deferred pool.Close comes last.
	errs := []error{parts.Wait(shutdownCtx)}
	logger.Info("consumers stopped")
	background.Stop()
	if err := background.Wait(shutdownCtx); err != nil {
		errs = append(errs, err)
	} else {
		logger.Info("outbox relay stopped")
	}
	errs = append(errs, mailer.Close(shutdownCtx))
	errs = append(errs, natsjs.Drain(nc, cfg.ShutdownTimeout))
	if err := errors.Join(errs...); err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}
