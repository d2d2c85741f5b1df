// Command console is the orderbus live console: a read-only web page
// (GET /) that shows, as it happens, each recent order's journey across the
// services (placed, receipt sent, SMS sent, stock reserved or rejected,
// confirmed or rejected, with the time of each step), every durable
// consumer's pending, unacknowledged and redelivered messages and whether
// it is paused, each service's outbox backlog, the dead letters with their
// reason, and the open erasures. The page is plain HTML and a little
// JavaScript embedded in the binary; the server pushes a new snapshot
// over server-sent events (GET /v1/stream) whenever something changes, and
// GET /v1/snapshot answers the same JSON once.
//
// The console reads the streams with ordered consumers, which hold no
// message back from anyone, and JetStream's consumer state; it owns no
// database and no durable consumer. Its one action is the redrive of a
// dead letter (POST /v1/dead-letters/{seq}/redrive, through pkg/dlq),
// which needs an operator's bearer token with the dlq:write role (pkg/auth).
// Configuration is read from the environment (see Config); logs go to
// stdout.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/config"
	"github.com/orderbus/orderbus/pkg/lifecycle"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/web"
)

// serviceName names the console's NATS connection and its logs.
const serviceName = "console"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "console: %v\n", err)
		os.Exit(1)
	}
}

// run starts the console and blocks until ctx is done, then shuts down.
// It returns an error when the configuration is invalid or a part fails;
// nil after a clean shutdown.
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
	services, err := parseServices(cfg.Services)
	if err != nil {
		return err
	}
	keys, err := cfg.Auth.Keys()
	if err != nil {
		return fmt.Errorf("auth keys: %w", err)
	}

	nc, js, err := natsjs.Dial(ctx, cfg.NATSURL, serviceName, logger, natsjs.Auth(cfg.NATS)...)
	if err != nil {
		return err
	}
	defer nc.Close() // a no-op after the drain below

	// A redrive republishes and deletes dead letters: it connects as an
	// operator identity of its own, so the page's stays read-only.
	var redriveJS jetstream.JetStream
	if cfg.RedriveUser != "" {
		rnc, rjs, err := natsjs.Dial(ctx, cfg.NATSURL, serviceName+"-redrive", logger, natsjs.Auth(cfg.redriveAuth())...)
		if err != nil {
			return err
		}
		defer rnc.Close()
		redriveJS = rjs
	}

	h := newHub()
	orders := newJourneys(cfg.Orders)
	open := newErasures(cfg.participants(), cfg.Erasures)
	st := &status{}
	w := &watcher{js: js, logger: logger, journeys: orders, erasures: open, hub: h,
		replay: cfg.Replay, retry: cfg.PollInterval}
	p := &poller{js: js, logger: logger, client: &http.Client{Timeout: 2 * time.Second},
		services: services, maxDead: cfg.DeadLetters, journeys: orders, status: st, hub: h}

	parts := lifecycle.NewGroup(ctx)
	reg := web.NewRegistry()
	if err := registerMetrics(reg, st); err != nil {
		return err
	}
	srv := newServer(logger, serverDeps{
		registry: reg,
		state:    &state{journeys: orders, erasures: open, status: st},
		hub:      h,
		done:     parts.Context().Done(),
		redrive:  newRedriver(redriveJS),
		keys:     keys,
		checks:   map[string]web.Check{"nats": natsReady(nc)},
	})
	for _, x := range watched() {
		parts.Go("watch "+x.stream, func(ctx context.Context) error { return w.run(ctx, x) })
	}
	parts.Go("poll", func(ctx context.Context) error { return p.run(ctx, cfg.PollInterval) })
	parts.Go("http", func(ctx context.Context) error {
		return web.Serve(ctx, logger, cfg.HTTPAddr, srv, cfg.ShutdownTimeout)
	})

	<-parts.Context().Done() // SIGTERM, or a part failed
	return lifecycle.Shutdown(ctx, logger, cfg.ShutdownTimeout,
		parts.Stage("http, watchers and poll"),
		natsjs.DrainStage(nc))
}

// natsReady passes while the NATS connection is up.
func natsReady(nc *nats.Conn) web.Check {
	return func(context.Context) error {
		if !nc.IsConnected() {
			return errors.New("nats: not connected")
		}
		return nil
	}
}
