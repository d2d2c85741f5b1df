// Package natstest gives tests a real nats-server with JetStream: one
// process per test, so a test may stop and restart its server without
// disturbing others.
package natstest

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsauth"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/stack"
)

// Start starts a fresh nats-server process with JetStream, a temporary
// store and the orderbus identities with their development passwords
// (stack.NATSAuth: anonymous clients are refused; see Connect, URL and
// ServiceEnv) and closes it at cleanup. It fails the test,
// never skips it, when the server cannot start; the server's log tail is
// reported when the test fails.
func Start(tb testing.TB) *stack.NATS {
	tb.Helper()
	return start(tb, stack.NATSConfig{Auth: &stack.NATSAuth{}, Logger: Logger(tb)})
}

// StartDurable starts a nats-server as deployed for benchmarks: every
// stored message fsynced before its PubAck (sync_interval: always),
// without accounts (connect as Connect does). It stops when tb ends.
func StartDurable(tb testing.TB) *stack.NATS {
	tb.Helper()
	return start(tb, stack.NATSConfig{SyncAlways: true})
}

// start starts a nats-server with cfg, stopped when tb ends (its log
// tail shown if tb failed).
func start(tb testing.TB, cfg stack.NATSConfig) *stack.NATS {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv, err := stack.StartNATS(ctx, cfg)
	if err != nil {
		tb.Fatalf("start nats-server: %v", err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			if p := srv.Process(); p != nil {
				tb.Logf("nats-server log tail:\n%s", p.Tail(30))
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			tb.Errorf("close nats-server: %v", err)
		}
	})
	return srv
}

// Connect connects to srv as the admin identity (URL) with natsjs.Dial
// (named after the test),
// ensures events.Streams(events.DefaultRetention()) and returns the connection and its JetStream
// handle; the connection is closed at cleanup. It fails the test when the
// streams cannot be created.
func Connect(tb testing.TB, srv *stack.NATS) (*nats.Conn, jetstream.JetStream) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nc, js, err := natsjs.Dial(ctx, URL(srv), tb.Name(), Logger(tb))
	if err != nil {
		tb.Fatalf("connect %s: %v", srv.URL(), err)
	}
	tb.Cleanup(nc.Close)
	if err := natsjs.EnsureStreams(ctx, js, events.Streams(events.DefaultRetention())...); err != nil {
		tb.Fatalf("ensure streams: %v", err)
	}
	return nc, js
}

// URL returns srv's client URL with the credentials of the admin
// identity (natsauth.UserAdmin), which may do anything: what a test uses to
// set up streams, publish events and inspect the result.
func URL(srv *stack.NATS) string { return srv.UserURL(natsauth.UserAdmin) }

// ServiceEnv returns the NATS variables of service's identity on srv:
// NATS_URL (without credentials), NATS_USER, NATS_PASSWORD, and
// ORDERBUS_ENV=development, which the development password needs.
func ServiceEnv(srv *stack.NATS, service string) map[string]string {
	return map[string]string{
		"NATS_URL":      srv.URL(),
		"NATS_USER":     service,
		"NATS_PASSWORD": srv.Password(service),
		"ORDERBUS_ENV":  "development",
	}
}

// Logger returns a logger writing to the test log at debug level. Lines
// logged after the test's cleanup began (by goroutines that outlive it)
// are dropped rather than panicking.
func Logger(tb testing.TB) *slog.Logger {
	w := &tbWriter{tb: tb}
	tb.Cleanup(w.close) // registered first, so it runs after the other cleanups
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tbWriter struct {
	mu     sync.Mutex
	tb     testing.TB
	closed bool
}

var _ io.Writer = (*tbWriter)(nil)

func (w *tbWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.tb.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (w *tbWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}
