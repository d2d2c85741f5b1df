package natsjs

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// runner is the state of one Run: the fetched messages it holds and the
// queue feeding the handler goroutines.
type runner struct {
	c           *Consumer
	work        chan *delivery // never blocks: holds at most Batch
	outstanding atomic.Int64   // fetched and not yet settled, at most Batch
	freed       chan struct{}  // signals that outstanding went down
}

// delivery is one fetched message and its InProgress ticker.
type delivery struct {
	msg jetstream.Msg
	ka  *keepAlive
}

// fetchLoop fetches until ctx is done. It asks for as many messages as the
// window (Batch) has room for, once at least half of it is free, so the
// handlers always have queued work without the runner holding more than
// Batch messages.
func (r *runner) fetchLoop(ctx context.Context) error {
	c := r.c
	threshold := int64(max(1, c.cfg.Batch/2))
	failures := 0
	for {
		for int64(c.cfg.Batch)-r.outstanding.Load() < threshold {
			select {
			case <-r.freed:
			case <-ctx.Done():
				return nil
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		err := r.fetch(ctx, c.cfg.Batch-int(r.outstanding.Load()), failures > 0)
		if err == nil {
			if failures > 0 {
				c.log.Info("consumer fetching again", "failed_attempts", failures)
			}
			failures = 0
			continue
		}
		if ctx.Err() != nil {
			return nil
		}
		if c.js.Conn().IsClosed() {
			return fmt.Errorf("run consumer %s: %w", c.cfg.Durable, nats.ErrConnectionClosed)
		}
		failures++
		c.metrics.fetchErrors.Inc()
		delay := min(100*time.Millisecond<<min(failures-1, 10), c.maxRetryDelay)
		c.log.Warn("consumer fetch failed; retrying", "error", err, "attempt", failures, "retry_in", delay)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil
		}
		r.waitConnected(ctx)
	}
}

// waitConnected returns once the connection is up (or closed for good, or
// ctx is done): requests sent while reconnecting would only time out, and
// polling the status lets the runner resume right after a reconnect.
func (r *runner) waitConnected(ctx context.Context) {
	nc := r.c.js.Conn()
	for !nc.IsConnected() && !nc.IsClosed() {
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return
		}
	}
}

// fetch sends one pull request for n messages and queues what arrives
// until it expires, fills or ctx is done. After a failure it first
// recreates the consumer, which may have been deleted. A canceled or
// expired request is not an error.
func (r *runner) fetch(ctx context.Context, n int, reensure bool) error {
	c := r.c
	fctx, cancel := context.WithTimeout(ctx, c.fetchWait)
	defer cancel()
	if reensure || c.cons == nil {
		if err := c.ensure(fctx); err != nil {
			return err
		}
	}
	opts := []jetstream.FetchOpt{jetstream.FetchContext(fctx)}
	if dl, ok := fctx.Deadline(); ok && time.Until(dl) >= 4*c.fetchHeartbeat {
		// Without heartbeats a pull request lost to a server restart would
		// only be noticed when it expires.
		opts = append(opts, jetstream.FetchHeartbeat(c.fetchHeartbeat))
	}
	batch, err := c.cons.Fetch(n, opts...)
	if err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	interval := c.cfg.AckWait / 3
	for msg := range batch.Messages() {
		r.outstanding.Add(1)
		r.work <- &delivery{msg: msg, ka: startKeepAlive(msg, interval)}
	}
	err = batch.Error()
	if err != nil && fctx.Err() != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	return nil
}

// handle settles d: it runs the handler unless Run is stopping, in which
// case d is NAKed at once for another instance to take.
func (r *runner) handle(ctx, hctx context.Context, d *delivery) {
	defer func() {
		r.outstanding.Add(-1)
		select {
		case r.freed <- struct{}{}:
		default:
		}
	}()
	if ctx.Err() != nil {
		d.ka.stop()
		if err := d.msg.Nak(); err != nil {
			r.c.log.Warn("release message on stop", "error", err)
		}
		r.c.metrics.messages.WithLabelValues(outcomeReleased).Inc()
		return
	}
	r.c.process(hctx, d)
}
