// Package telemetry sets up OpenTelemetry tracing for an orderbus service
// from the standard OTEL_* environment variables (see Load), and provides
// what the rest of pkg needs to carry one trace across every hop: W3C
// trace context for events (EventContext, ContextFromEvent), an HTTP
// handler and transport (HTTPHandler, HTTPTransport), a pgx tracer
// (PgxTracer) and a slog handler adding trace_id and span_id to log lines
// (LogHandler).
//
// Tracing is off unless an OTLP endpoint is configured. Off, every method
// returns no-op values (a nil *Telemetry behaves the same), so that the
// instrumented code costs next to nothing: no span is recorded, no
// traceparent is stored or sent, and no pgx tracer is installed.
//
// No global is set: neither OpenTelemetry's global tracer provider nor its
// propagator. Each piece of instrumentation is handed its provider.
package telemetry

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// ScopeName is the instrumentation scope of the spans orderbus itself
// records (publish, process, SMTP).
const ScopeName = "github.com/orderbus/orderbus/pkg/telemetry"

// Telemetry is a service's tracing: on, a tracer provider exporting over
// OTLP/HTTP; off, no-ops. A nil *Telemetry is off. It is safe for
// concurrent use.
type Telemetry struct {
	cfg  Config
	sdk  *sdktrace.TracerProvider // nil when off
	prop propagation.TextMapPropagator
}

// New loads the configuration with Load(getenv, service) and returns the
// service's Telemetry: with an endpoint configured, a tracer provider with
// a batch span processor and an OTLP http/protobuf exporter (nothing is
// dialed yet; an unreachable collector only drops spans); without one, an
// off Telemetry. It returns Load's error, or an error when the exporter
// cannot be built. Close it when the service stops.
func New(ctx context.Context, getenv func(string) string, service string) (*Telemetry, error) {
	cfg, err := Load(getenv, service)
	if err != nil {
		return nil, err
	}
	return NewWithConfig(ctx, cfg)
}

// NewWithConfig is New with a Config already loaded.
func NewWithConfig(ctx context.Context, cfg Config) (*Telemetry, error) {
	t := &Telemetry{cfg: cfg, prop: propagation.TraceContext{}}
	if !cfg.Enabled() {
		return t, nil
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(cfg.Endpoint)}
	if len(cfg.Headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(cfg.Headers))
	}
	if cfg.Timeout > 0 {
		opts = append(opts, otlptracehttp.WithTimeout(cfg.Timeout))
	}
	if cfg.Gzip {
		opts = append(opts, otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("telemetry: otlp exporter: %w", err)
	}
	attrs := []attribute.KeyValue{semconv.ServiceName(cfg.ServiceName)}
	for k, v := range cfg.Attributes {
		attrs = append(attrs, attribute.String(k, v))
	}
	// resource.New without WithFromEnv: the environment was read through
	// getenv already.
	res, err := resource.New(ctx, resource.WithTelemetrySDK(), resource.WithAttributes(attrs...))
	if err != nil {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	var bsp []sdktrace.BatchSpanProcessorOption
	if cfg.BatchDelay > 0 {
		bsp = append(bsp, sdktrace.WithBatchTimeout(cfg.BatchDelay))
	}
	if cfg.BatchTimeout > 0 {
		bsp = append(bsp, sdktrace.WithExportTimeout(cfg.BatchTimeout))
	}
	if cfg.MaxQueue > 0 {
		bsp = append(bsp, sdktrace.WithMaxQueueSize(cfg.MaxQueue))
	}
	if cfg.MaxBatch > 0 {
		bsp = append(bsp, sdktrace.WithMaxExportBatchSize(cfg.MaxBatch))
	}
	t.sdk = sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sampler(cfg)),
		sdktrace.WithBatcher(exp, bsp...),
	)
	return t, nil
}

// sampler returns the sampler cfg names (Load checked the name).
func sampler(cfg Config) sdktrace.Sampler {
	switch cfg.Sampler {
	case "always_on":
		return sdktrace.AlwaysSample()
	case "always_off":
		return sdktrace.NeverSample()
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(cfg.SamplerArg)
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample())
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SamplerArg))
	}
	return sdktrace.ParentBased(sdktrace.AlwaysSample())
}

// Enabled reports whether spans are recorded and exported.
func (t *Telemetry) Enabled() bool { return t != nil && t.sdk != nil }

// Endpoint returns the OTLP traces URL spans go to, "" when off.
func (t *Telemetry) Endpoint() string {
	if !t.Enabled() {
		return ""
	}
	return t.cfg.Endpoint
}

// TracerProvider returns the provider to hand to instrumentation: the SDK's
// when on, a no-op one when off.
func (t *Telemetry) TracerProvider() trace.TracerProvider {
	if !t.Enabled() {
		return noop.NewTracerProvider()
	}
	return t.sdk
}

// Tracer returns the tracer of orderbus's own spans (scope ScopeName).
func (t *Telemetry) Tracer() trace.Tracer {
	return t.TracerProvider().Tracer(ScopeName)
}

// Propagator returns the W3C trace context propagator (traceparent and
// tracestate) every hop uses.
func (t *Telemetry) Propagator() propagation.TextMapPropagator {
	if t == nil || t.prop == nil {
		return propagation.TraceContext{}
	}
	return t.prop
}

// closeTimeout bounds Close when ctx has no earlier deadline.
const closeTimeout = 5 * time.Second

// Close flushes the spans still queued and shuts the exporter down, within
// ctx and at most 5 seconds, so that a collector that is down cannot hold
// up a service's shutdown (pass a ctx that SIGTERM does not cancel). It returns the flush or shutdown error (spans
// are lost then, nothing else). Off, it does nothing.
func (t *Telemetry) Close(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, closeTimeout)
	defer cancel()
	if err := t.sdk.Shutdown(ctx); err != nil {
		return fmt.Errorf("telemetry: close: %w", err)
	}
	return nil
}
