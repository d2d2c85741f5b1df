// Command email is the orderbus email service: it consumes orders.placed
// and orders.rejected from JetStream and mails the customer a receipt or
// an apology over SMTP, at most once per event as far as its database can
// tell (see mailSender.send), and keeps a record of every mail.
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
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/config"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/inbox"
	"github.com/orderbus/orderbus/pkg/natsjs"
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

// run starts the service and blocks until ctx is done, then shuts down:
// HTTP stops and the consumers stop fetching and finish the messages in
// flight (both within SHUTDOWN_TIMEOUT), then the SMTP connections are
// closed, the NATS connection drained and the database pool closed. It
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
	logger = logger.With("service", "email")
	logger.Info("starting", "config", cfg)

	tmpl, err := parseTemplates()
	if err != nil {
		return err
	}
	ownMigrations, err := migrations()
	if err != nil {
		return err
	}
	pool, err := pgdb.OpenWait(ctx, logger, cfg.DatabaseURL, databaseWaitTimeout)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := pgdb.Migrate(ctx, pool, inbox.Migrations(), ownMigrations); err != nil {
		return err
	}
	store := newStore(pool)

	nc, err := natsjs.Connect(ctx, cfg.NATSURL, "email", logger)
	if err != nil {
		return err
	}
	defer nc.Close() // a no-op after the drain below
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	streams := natsjs.NewStreamSetup(js, logger, events.Streams()...)

	reg := web.NewRegistry()
	metrics, err := newMailMetrics(reg)
	if err != nil {
		return err
	}
	mailer, err := newMailer(cfg, cfg.ConsumerConcurrency, logger)
	if err != nil {
		return err
	}
	var consumers []*natsjs.Consumer
	for _, s := range subscriptions(logger, store, mailer, tmpl, metrics) {
		c, err := natsjs.NewConsumer(consumerSetupContext(ctx, nc), js, s.consumerConfig(cfg, logger, reg), s.handler())
		if err != nil {
			return fmt.Errorf("consumer %s: %w", s.durable, err)
		}
		consumers = append(consumers, c)
	}

	checks := map[string]web.Check{
		"postgres": store.Ping,
		"nats":     natsjs.ReadyCheck(nc, js, streams),
	}
	srv := newServer(logger, reg, store, checks)

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
	wg.Go(func() { streams.Run(runCtx) })
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
	if err := mailer.Close(shutdownCtx); err != nil {
		errs = append(errs, err)
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
