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
	warnedGone  bool           // the stream's absence was logged at warn in this outage
}

// delivery is one fetched message and its InProgress ticker.
type delivery struct {
	msg jetstream.Msg
	ka  *keepAlive
}

// fetchLoop fetches until ctx is done. It asks for as many messages as the
// window (Batch, by default Concurrency) has room for, once at least half
// of it is free, so the handlers always have work without the runner
// holding messages it cannot start soon. While the consumer is paused it
// fetches nothing and probes instead; half-open, it fetches one message.
func (r *runner) fetchLoop(ctx context.Context) error {
	c := r.c
	failures := 0
	for {
		if ctx.Err() != nil {
			return nil
		}
		state, _, _, _ := c.br.status()
		if state == circuitOpen {
			r.releaseQueued()
			r.awaitResume(ctx)
			continue
		}
		n := r.room(state)
		if n == 0 {
			select {
			case <-r.freed:
			case <-c.br.changed:
			case <-ctx.Done():
				return nil
			}
			continue
		}
		err := r.fetch(ctx, n, failures > 0)
		if err == nil {
			if failures > 0 {
				c.log.Info("consumer fetching again", "failed_attempts", failures)
			}
			failures, r.warnedGone = 0, false
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
		r.logFetchError(err, failures, delay)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil
		}
		r.waitConnected(ctx)
	}
}

// room is how many messages to ask for now: 0 to wait.
func (r *runner) room(state circuit) int {
	held := int(r.outstanding.Load())
	if state == circuitHalfOpen {
		if held == 0 && r.c.br.trialAllowed() {
			return 1
		}
		return 0
	}
	free := r.c.cfg.Batch - held
	if free < max(1, r.c.cfg.Batch/2) {
		return 0
	}
	return free
}

// logFetchError logs a failed fetch: at warn on the first failure of an
// outage and every 30th after it, at debug otherwise. A missing stream is
// logged at warn once per outage, and at debug only while the durable was
// never created (the service creating the stream may start later).
func (r *runner) logFetchError(err error, attempt int, delay time.Duration) {
	c := r.c
	attrs := []any{"error", err, "attempt", attempt, "retry_in", delay.String()}
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound) && c.lastSeen().IsZero():
		c.log.Debug("waiting for the stream to be created", attrs...)
	case errors.Is(err, jetstream.ErrStreamNotFound) && !r.warnedGone:
		r.warnedGone = true
		c.log.Warn("stream missing; the consumer is recreated once it exists again", attrs...)
	case errors.Is(err, jetstream.ErrStreamNotFound):
		c.log.Debug("stream still missing", attrs...)
	case attempt == 1 || attempt%30 == 0:
		c.log.Warn("consumer fetch failed; retrying", attrs...)
	default:
		c.log.Debug("consumer fetch failed; retrying", attrs...)
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
// until it expires, fills or ctx is done. After a
// failure it first recreates the consumer, which may have been deleted. A
// canceled or expired request is not an error.
func (r *runner) fetch(ctx context.Context, n int, reensure bool) error {
	c := r.c
	// A pause does not cancel the request: messages in transit to a
	// canceled one would wait out AckWait. What arrives once paused is
	// released, and a request ends after n deliveries anyway.
	fctx, cancel := context.WithTimeout(ctx, c.fetchWait)
	defer cancel()
	if reensure || c.cons == nil {
		if err := c.ensure(fctx, false); err != nil {
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
		c.markSeen()
		return nil
	}
	if err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	c.markSeen()
	return nil
}

// handle settles d: it runs the handler unless Run is stopping or the
// consumer is paused, in which case d is released at once.
func (r *runner) handle(ctx, hctx context.Context, d *delivery) {
	defer r.settled()
	if ctx.Err() != nil {
		r.release(d)
		return
	}
	run, trial := r.c.br.admit()
	if !run {
		r.release(d)
		return
	}
	v, err := r.c.process(hctx, d)
	r.c.br.record(v, err, trial)
}

// releaseQueued releases the messages queued for the handlers, when a
// pause begins.
func (r *runner) releaseQueued() {
	for {
		select {
		case d := <-r.work:
			r.release(d)
			r.settled()
		default:
			return
		}
	}
}

// release NAKs d without delay, for this or another instance to take
// later: the delivery it cost counts against nothing.
func (r *runner) release(d *delivery) {
	d.ka.stop()
	if err := d.msg.Nak(); err != nil {
		r.c.log.Warn("release message", "error", err)
	}
	r.c.metrics.messages.WithLabelValues(outcomeReleased).Inc()
}

// settled accounts for a delivery that is no longer held.
func (r *runner) settled() {
	r.outstanding.Add(-1)
	select {
	case r.freed <- struct{}{}:
	default:
	}
}

// awaitResume waits while the consumer is paused: every ProbeInterval it
// calls the failing dependency's probe, and resumes when it passes; with
// no probe for that dependency it turns half-open after one interval, to
// let a single trial message through.
func (r *runner) awaitResume(ctx context.Context) {
	c := r.c
	for {
		select {
		case <-time.After(c.cfg.ProbeInterval):
		case <-ctx.Done():
			return
		}
		state, dep, _, _ := c.br.status()
		if state != circuitOpen {
			return
		}
		probe := c.cfg.Probes[dep]
		if probe == nil {
			c.br.halfOpen()
			return
		}
		err := runProbe(ctx, probe, c.cfg.HandlerTimeout)
		if err == nil {
			c.br.resume("probe passed")
			return
		}
		c.log.Debug("probe failed; consumer stays paused", "dependency", dep, "error", err)
	}
}

// runProbe calls p under timeout, turning a panic into an error.
func runProbe(ctx context.Context, p Probe, timeout time.Duration) (err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	defer func() {
		if rec := recover(); rec != nil {
			err = fmt.Errorf("probe panicked: %v", rec)
		}
	}()
	return p(ctx)
}
