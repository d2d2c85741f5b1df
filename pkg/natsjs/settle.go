package natsjs

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
)

// process runs the handler on one delivery and settles it: an event
// whose ce-source is not its subject's publisher (events.CheckSource) is
// dead-lettered unhandled; otherwise Ack on success, DLQ copy then Term on a permanent failure, NakWithDelay
// otherwise. A redrive meant for another durable is acked unhandled. It
// returns what the outcome says about the dependencies, and the
// handler's error.
func (c *Consumer) process(ctx context.Context, d *delivery) (v verdict, err error) {
	// Stopped only once settled, so a slow DLQ copy is kept alive too; an
	// InProgress racing the settlement is dropped by the client (already acked).
	defer d.ka.stop()
	msg := d.msg
	if target := msg.Headers().Get(HeaderRedriveFor); target != "" && target != c.cfg.Durable {
		if err := msg.Ack(); err != nil {
			c.log.Warn("ack of a redrive for another consumer failed", "error", err, "redrive_for", target)
		}
		c.metrics.messages.WithLabelValues(outcomeSkippedRedrive).Inc()
		return verdictNone, nil
	}
	meta, err := msg.Metadata()
	if err != nil {
		// Not a JetStream delivery (cannot happen with Fetch): without its
		// delivery count, dead-letter it rather than retry forever.
		c.giveUp(msg, &jetstream.MsgMetadata{Stream: c.cfg.Stream, Consumer: c.cfg.Durable},
			reasonMalformed, fmt.Errorf("read delivery metadata: %w", err))
		return verdictNone, nil
	}
	ev, err := events.Parse(msg.Headers(), msg.Data())
	if err != nil {
		c.giveUp(msg, meta, reasonMalformed, err)
		return verdictNone, nil
	}
	// Only the service the catalogue names may publish a subject; an event
	// claiming another source is forged or misrouted, never applied. The
	// broker's permissions enforce the same table for publishers.
	if err := events.CheckSource(msg.Subject(), ev.Source); err != nil {
		c.giveUp(msg, meta, reasonForeignSource, err)
		return verdictNone, nil
	}
	ctx, span := c.startSpan(ctx, msg.Subject(), ev, meta)
	defer func() { endSpan(span, v, err) }()

	err = c.invoke(ctx, Message{Event: ev, Subject: msg.Subject(), NumDelivered: meta.NumDelivered, StreamSeq: meta.Sequence.Stream})
	switch {
	case err == nil:
		if aerr := msg.Ack(); aerr != nil {
			// The server redelivers after AckWait; the handler's idempotency absorbs it.
			c.log.Warn("ack failed", "error", aerr, "stream_seq", meta.Sequence.Stream, "event_id", ev.ID)
		}
		c.metrics.messages.WithLabelValues(outcomeAcked).Inc()
		return verdictSuccess, nil
	case IsPermanent(err) || errors.Is(err, events.ErrMalformed):
		c.giveUp(msg, meta, reasonPermanent, err)
		return verdictPermanent, err
	default:
		delay := c.cfg.backoff(meta.NumDelivered)
		c.log.WarnContext(ctx, "handler failed; retrying", "error", err, "event_id", ev.ID, "event_type", ev.Type,
			"stream_seq", meta.Sequence.Stream, "delivery", meta.NumDelivered, "retry_in", delay)
		c.nak(msg, delay)
		c.metrics.messages.WithLabelValues(outcomeRetried).Inc()
		return verdictTransient, err
	}
}

// invoke calls the handler under HandlerTimeout, turning a panic into an
// error and any error returned after the deadline into a transient one
// (a Permanent or malformed verdict reached by a canceled call is not
// trusted), keeping the dependency it names.
func (c *Consumer) invoke(ctx context.Context, m Message) (err error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.HandlerTimeout)
	defer cancel()
	start := time.Now()
	c.metrics.inFlight.Inc()
	defer func() {
		if p := recover(); p != nil {
			c.metrics.panics.Inc()
			c.log.Error("handler panicked", "panic", fmt.Sprint(p), "event_id", m.Event.ID,
				"event_type", m.Event.Type, "stream_seq", m.StreamSeq, "stack", string(debug.Stack()))
			err = fmt.Errorf("handler panicked: %v", p)
		}
		if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			c.metrics.timeouts.Inc()
			if IsPermanent(err) || errors.Is(err, events.ErrMalformed) {
				dep, ok := DependencyOf(err)
				err = fmt.Errorf("handler deadline of %s exceeded: %v", c.cfg.HandlerTimeout, err)
				if ok {
					err = Unavailable(dep, err)
				}
			} else {
				err = fmt.Errorf("handler deadline of %s exceeded: %w", c.cfg.HandlerTimeout, err)
			}
		}
		c.metrics.inFlight.Dec()
		c.metrics.duration.Observe(time.Since(start).Seconds())
	}()
	return c.handler(ctx, m)
}

// giveUp copies msg to the DLQ and terminates it; if the copy cannot be
// stored it NAKs msg instead, so the message is never dropped unrecorded.
func (c *Consumer) giveUp(msg jetstream.Msg, meta *jetstream.MsgMetadata, reason string, cause error) {
	attrs := []any{"reason", reason, "error", cause, "subject", msg.Subject(),
		"stream_seq", meta.Sequence.Stream, "delivery", meta.NumDelivered}
	if c.suppressDeadLetter(msg, meta, attrs) {
		return
	}
	if err := c.deadLetter(msg, meta, reason, cause); err != nil {
		delay := c.cfg.backoff(meta.NumDelivered)
		c.log.Error("dead-letter failed; retrying the message", append(attrs, "dlq_error", err, "retry_in", delay)...)
		c.nak(msg, delay)
		c.metrics.messages.WithLabelValues(outcomeDeadLetterFailed).Inc()
		return
	}
	if err := msg.TermWithReason(reason); err != nil {
		// Redelivered later and dead-lettered again: the DLQ deduplicates it.
		c.log.Warn("terminate failed", "error", err, "stream_seq", meta.Sequence.Stream)
	}
	c.log.Warn("message dead-lettered", attrs...)
	c.metrics.messages.WithLabelValues(outcomeDeadLettered).Inc()
	c.metrics.deadLetters.WithLabelValues(reason).Inc()
}

// nak asks for redelivery after delay.
func (c *Consumer) nak(msg jetstream.Msg, delay time.Duration) {
	if err := msg.NakWithDelay(delay); err != nil {
		// Redelivered after AckWait instead.
		c.log.Warn("nak failed", "error", err)
	}
}

// suppressDeadLetter asks ConsumerConfig.DeadLetters whether msg's copy
// must not be stored, and if so terminates msg without one and reports
// true; when the guard fails it NAKs msg (retried later) and reports true
// as well, since nothing may be stored before it has answered.
func (c *Consumer) suppressDeadLetter(msg jetstream.Msg, meta *jetstream.MsgMetadata, attrs []any) bool {
	if c.cfg.DeadLetters == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), dlqTimeout)
	defer cancel()
	suppress, err := c.cfg.DeadLetters.SuppressDeadLetter(ctx, msg.Subject(), msg.Data())
	if err != nil {
		delay := c.cfg.backoff(meta.NumDelivered)
		c.log.Error("dead-letter guard failed; retrying the message", append(attrs, "guard_error", err, "retry_in", delay)...)
		c.nak(msg, delay)
		c.metrics.messages.WithLabelValues(outcomeDeadLetterFailed).Inc()
		return true
	}
	if !suppress {
		return false
	}
	if err := msg.TermWithReason("suppressed"); err != nil {
		c.log.Warn("terminate failed", "error", err, "stream_seq", meta.Sequence.Stream)
	}
	c.log.Warn("message given up on; no dead letter stored, it is about an erased customer", attrs...)
	c.metrics.messages.WithLabelValues(outcomeDeadLetterSuppressed).Inc()
	return true
}
