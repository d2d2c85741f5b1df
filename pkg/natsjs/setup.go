package natsjs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// StreamSetup creates the streams a service needs without making the
// service wait for the broker: Run retries in the background until it
// succeeds, and Ready tells the readiness check whether it has. A service
// that publishes through the outbox can thus start, and take requests,
// while NATS is down.
type StreamSetup struct {
	js     jetstream.JetStream
	cfgs   []jetstream.StreamConfig
	logger *slog.Logger
	ready  atomic.Bool
}

// NewStreamSetup returns a StreamSetup for cfgs; nothing is sent until Run.
func NewStreamSetup(js jetstream.JetStream, logger *slog.Logger, cfgs ...jetstream.StreamConfig) *StreamSetup {
	return &StreamSetup{js: js, cfgs: cfgs, logger: logger}
}

// Run calls EnsureStreams until it succeeds or ctx ends, with a backoff of
// 100 ms doubling to 5 s between attempts, each logged at warn.
func (s *StreamSetup) Run(ctx context.Context) {
	delay := 100 * time.Millisecond
	for {
		attemptCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := EnsureStreams(attemptCtx, s.js, s.cfgs...)
		cancel()
		if err == nil {
			s.ready.Store(true)
			s.logger.Info("jetstream streams ready")
			return
		}
		s.logger.Warn("cannot create jetstream streams yet; retrying", "error", err, "retry_in", delay.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// Ready reports whether Run has created the streams.
func (s *StreamSetup) Ready() bool { return s.ready.Load() }

// ReadyCheck returns a readiness check that passes when nc is connected,
// setup (if not nil) has created the streams, and JetStream answers.
func ReadyCheck(nc *nats.Conn, js jetstream.JetStream, setup *StreamSetup) func(context.Context) error {
	return func(ctx context.Context) error {
		if status := nc.Status(); status != nats.CONNECTED {
			return fmt.Errorf("nats connection is %s", status)
		}
		if setup != nil && !setup.Ready() {
			return errors.New("jetstream streams not created yet")
		}
		if _, err := js.AccountInfo(ctx); err != nil {
			return fmt.Errorf("jetstream account info: %w", err)
		}
		return nil
	}
}

// Drain drains nc, flushing what it has buffered, and waits up to timeout
// for it to close. A connection that is reconnecting cannot be drained and
// is closed instead; that loses nothing a service cares about, since every
// event it publishes is kept in its outbox until acknowledged.
func Drain(nc *nats.Conn, timeout time.Duration) error {
	closed := make(chan struct{})
	prev := nc.Opts.ClosedCB
	nc.SetClosedHandler(func(c *nats.Conn) {
		if prev != nil {
			prev(c)
		}
		close(closed)
	})
	err := nc.Drain()
	switch {
	case errors.Is(err, nats.ErrConnectionClosed):
		return nil
	case errors.Is(err, nats.ErrConnectionReconnecting):
		// Drain has closed the connection itself.
	case err != nil:
		nc.Close()
		return fmt.Errorf("drain nats: %w", err)
	}
	select {
	case <-closed:
		return nil
	case <-time.After(timeout):
		nc.Close()
		return fmt.Errorf("drain nats: not closed after %s", timeout)
	}
}

// ConsumersCheck returns a readiness check that passes once every consumer
// has created its durable on the server: before that, a service that has
// just started would be "ready" without consuming yet.
func ConsumersCheck(consumers ...*Consumer) func(context.Context) error {
	return func(context.Context) error {
		for _, c := range consumers {
			if !c.Created() {
				return fmt.Errorf("consumer %s not created yet", c.cfg.Durable)
			}
		}
		return nil
	}
}
