package natsjs

import (
	"context"
	"errors"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/orderbus/orderbus/pkg/events"
)

// Tracing of a delivery. Each delivery of a message gets its own consumer
// span, a child (not a link) of the publish span whose context the
// message's traceparent header carries, so that one order is one trace
// from its HTTP request through every consumer, and a redelivery shows up
// as a second attempt under the same publish. The handler's ctx carries
// the span: its database queries and the events it enqueues continue the
// trace. With tracing off the header's context is passed on unrecorded.

// startSpan starts the consumer span of ev delivered as described by meta.
func (c *Consumer) startSpan(ctx context.Context, subject string, ev events.Event, meta *jetstream.MsgMetadata) (context.Context, trace.Span) {
	ctx, span := c.cfg.Telemetry.StartProcess(ctx, c.cfg.Durable, subject, ev, meta.NumDelivered)
	if span.IsRecording() {
		span.SetAttributes(attribute.Int64("messaging.nats.stream_sequence", int64(meta.Sequence.Stream)))
	}
	return ctx, span
}

// endSpan ends the consumer span with the outcome: an error status for a
// permanent failure (dead-lettered) or a transient one (retried).
func endSpan(span trace.Span, v verdict, err error) {
	if span.IsRecording() {
		outcome := "acked"
		switch {
		case v == verdictPermanent:
			outcome = "dead-lettered"
		case err != nil && !errors.Is(err, context.Canceled):
			outcome = "retried"
		}
		span.SetAttributes(attribute.String("orderbus.outcome", outcome))
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
	}
	span.End()
}
