package natsjs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/orderbus/orderbus/pkg/lifecycle"
)

// DrainStage returns the shutdown stage that drains nc (see Drain),
// waiting for it to close until the shutdown's context is done.
func DrainStage(nc *nats.Conn) lifecycle.Stage {
	return lifecycle.Stage{Name: "nats connection", Stop: func(ctx context.Context) error {
		return drain(ctx, nc)
	}}
}

// Drain drains nc, flushing what it has buffered, and waits up to timeout
// for it to close. A connection that is reconnecting cannot be drained and
// is closed instead; that loses nothing a service cares about, since every
// event it publishes is kept in its outbox until acknowledged.
func Drain(nc *nats.Conn, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return drain(ctx, nc)
}

// drain is Drain, waiting until ctx is done.
func drain(ctx context.Context, nc *nats.Conn) error {
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
	case <-ctx.Done():
		nc.Close()
		return fmt.Errorf("drain nats: not closed in time: %w", ctx.Err())
	}
}
