package telemetry

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// probePaths are not traced: they are polled all the time and say nothing
// about an order's journey.
var probePaths = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// HTTPHandler returns h (a chi router) wrapped in a server span per
// request, named "<method> <route pattern>" (POST /v1/orders), that
// continues a traceparent the client sent. /healthz, /readyz and /metrics
// are not traced. Wrap the whole router, so that its logging middleware
// sees the span (LogHandler). Off, it returns h itself.
func (t *Telemetry) HTTPHandler(h http.Handler) http.Handler {
	if !t.Enabled() {
		return h
	}
	// The pattern is known only once chi has routed the request. chi uses
	// a route context it finds in the request rather than one from its
	// pool, so the one put here is still readable afterwards.
	named := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rctx := chi.NewRouteContext()
		r = r.WithContext(context.WithValue(r.Context(), chi.RouteCtxKey, rctx))
		h.ServeHTTP(w, r)
		if p := rctx.RoutePattern(); p != "" {
			span := trace.SpanFromContext(r.Context())
			span.SetName(r.Method + " " + p)
			span.SetAttributes(semconv.HTTPRoute(p))
		}
	})
	return otelhttp.NewHandler(named, "http",
		otelhttp.WithTracerProvider(t.sdk),
		otelhttp.WithPropagators(t.Propagator()),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelhttp.WithFilter(func(r *http.Request) bool { return !probePaths[r.URL.Path] }),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method }),
	)
}

// HTTPTransport returns base (http.DefaultTransport when nil) wrapped in a
// client span per request that sends the traceparent on, for the clients
// of outside providers (the SMS webhook and Twilio). Off, it returns base.
func (t *Telemetry) HTTPTransport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if !t.Enabled() {
		return base
	}
	return otelhttp.NewTransport(base,
		otelhttp.WithTracerProvider(t.sdk),
		otelhttp.WithPropagators(t.Propagator()),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
	)
}
