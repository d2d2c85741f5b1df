package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/orderbus/orderbus/pkg/events"
)

// Attribute keys of the CloudEvents semantic conventions, on the publish
// and process spans.
const (
	AttrEventID   = attribute.Key("cloudevents.event_id")
	AttrEventType = attribute.Key("cloudevents.event_type")
)

// StampEvent returns ev with the trace context of ctx (EventContext) as
// its TraceParent and TraceState, unless ev carries one already. The
// outbox stores it with the event, in the business change's transaction.
func StampEvent(ctx context.Context, ev events.Event) events.Event {
	if ev.TraceParent != "" {
		return ev
	}
	ev.TraceParent, ev.TraceState = EventContext(ctx)
	return ev
}

// StartPublish starts the producer span ("publish <event type>") of
// sending ev on the NATS subject subject. Its parent is the trace context
// stored in ev (the work that produced the event, however long ago), else
// the span in ctx. It returns ev carrying the new span's context, so that
// the consumers' spans become its children, and the span, which the
// caller ends once the PubAck arrives (recording an error with EndSpan).
// Off, ev is returned unchanged with a no-op span.
func (t *Telemetry) StartPublish(ctx context.Context, subject string, ev events.Event) (events.Event, trace.Span) {
	if !t.Enabled() {
		return ev, trace.SpanFromContext(context.Background())
	}
	if ev.TraceParent != "" {
		ctx = ContextFromEvent(context.WithoutCancel(ctx), ev.TraceParent, ev.TraceState)
	}
	ctx, span := t.Tracer().Start(ctx, "publish "+ev.Type,
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(messagingAttrs("send", subject, ev)...))
	ev.TraceParent, ev.TraceState = EventContext(ctx)
	return ev, span
}

// StartProcess starts the consumer span ("process <event type>") of the
// durable consumer durable handling ev, received on subject, and returns
// ctx carrying it, for the handler: its database spans and the events it
// enqueues continue the trace. The span is a child of the trace context ev
// carries (the publish span), not a link: one order is one trace, whose
// waterfall shows every consumer under the request that placed it (see
// the README, "Tracing"). Off, it returns ctx with ev's trace context
// passed on unrecorded (ContextFromEvent) and a no-op span.
func (t *Telemetry) StartProcess(ctx context.Context, durable, subject string, ev events.Event, delivery uint64) (context.Context, trace.Span) {
	ctx = ContextFromEvent(ctx, ev.TraceParent, ev.TraceState)
	if !t.Enabled() {
		return ctx, trace.SpanFromContext(ctx)
	}
	attrs := append(messagingAttrs("process", subject, ev),
		semconv.MessagingConsumerGroupName(durable),
		attribute.Int64("messaging.nats.delivery", int64(delivery)))
	return t.Tracer().Start(ctx, "process "+ev.Type,
		trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attrs...))
}

// messagingAttrs are the messaging and CloudEvents attributes of a span
// about ev on subject.
func messagingAttrs(op, subject string, ev events.Event) []attribute.KeyValue {
	return []attribute.KeyValue{
		semconv.MessagingSystemKey.String("nats"),
		semconv.MessagingOperationName(op),
		semconv.MessagingDestinationName(subject),
		semconv.MessagingMessageID(ev.ID),
		AttrEventID.String(ev.ID),
		AttrEventType.String(ev.Type),
	}
}

// EndSpan ends span, recording err as its error status when not nil.
func EndSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
