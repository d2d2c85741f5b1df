package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// EventContext returns the W3C traceparent and tracestate headers of the
// span context in ctx, for an event announcing work done under it (the
// CloudEvents distributed tracing extension); both are "" when ctx carries
// no valid span context, as when tracing is off everywhere upstream.
func EventContext(ctx context.Context) (traceparent, tracestate string) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return "", ""
	}
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	return c["traceparent"], c["tracestate"]
}

// ContextFromEvent returns ctx carrying the remote span context that
// traceparent and tracestate describe, so that spans started from it join
// that trace; ctx unchanged when traceparent is empty or malformed (a
// malformed trace context is dropped, never a reason to refuse an event).
// It works with tracing off too: the context is passed on unrecorded, so
// a service without a collector does not break the chain.
func ContextFromEvent(ctx context.Context, traceparent, tracestate string) context.Context {
	if traceparent == "" {
		return ctx
	}
	c := propagation.MapCarrier{"traceparent": traceparent}
	if tracestate != "" {
		c["tracestate"] = tracestate
	}
	return propagation.TraceContext{}.Extract(ctx, c)
}
