package natsjs

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

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
