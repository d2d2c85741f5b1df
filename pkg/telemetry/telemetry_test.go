package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"go.opentelemetry.io/otel/trace"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/telemetry"
	"github.com/orderbus/orderbus/pkg/telemetry/oteltest"
)

// newOn returns a Telemetry exporting to a fresh receiver.
func newOn(t *testing.T) (*telemetry.Telemetry, *oteltest.Receiver) {
	t.Helper()
	rcv := oteltest.Start(t)
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": rcv.Endpoint(), "OTEL_BSP_SCHEDULE_DELAY": "50"}
	tel, err := telemetry.New(t.Context(), func(k string) string { return env[k] }, "svc")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if !tel.Enabled() || tel.Endpoint() != rcv.Endpoint()+"/v1/traces" {
		t.Fatalf("Enabled = %v, Endpoint = %q", tel.Enabled(), tel.Endpoint())
	}
	return tel, rcv
}

func TestOffCostsNothing(t *testing.T) {
	t.Parallel()
	for name, tel := range map[string]*telemetry.Telemetry{"nil": nil, "no endpoint": mustNew(t, nil)} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := http.NotFoundHandler()
			if got := tel.HTTPHandler(h); got == nil || tel.Enabled() {
				t.Fatal("HTTPHandler off returned nil or Enabled is true")
			}
			if tel.PgxTracer() != nil {
				t.Error("PgxTracer off is not nil")
			}
			if tel.HTTPTransport(http.DefaultTransport) != http.DefaultTransport {
				t.Error("HTTPTransport off wrapped the transport")
			}
			ev := events.Event{ID: "e1", Type: "t", TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
			got, span := tel.StartPublish(t.Context(), "s", ev)
			if got.TraceParent != ev.TraceParent || got.TraceState != "" || span.IsRecording() {
				t.Errorf("StartPublish off changed the event (%+v) or records", got)
			}
			// The context is passed on even when off.
			ctx, span := tel.StartProcess(t.Context(), "d", "s", ev, 1)
			if span.IsRecording() || trace.SpanContextFromContext(ctx).TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
				t.Errorf("StartProcess off: recording %v, trace %s", span.IsRecording(), trace.SpanContextFromContext(ctx).TraceID())
			}
			if err := tel.Close(t.Context()); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
}

func mustNew(t *testing.T, env map[string]string) *telemetry.Telemetry {
	t.Helper()
	tel, err := telemetry.New(t.Context(), func(k string) string { return env[k] }, "svc")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return tel
}

func TestEventContextRoundTrip(t *testing.T) {
	t.Parallel()
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	ctx := telemetry.ContextFromEvent(t.Context(), tp, "vendor=abc")
	gotTP, gotTS := telemetry.EventContext(ctx)
	if gotTP != tp || gotTS != "vendor=abc" {
		t.Errorf("EventContext = %q, %q", gotTP, gotTS)
	}
	if tp, ts := telemetry.EventContext(t.Context()); tp != "" || ts != "" {
		t.Errorf("EventContext without a span = %q, %q", tp, ts)
	}
	if ctx := telemetry.ContextFromEvent(t.Context(), "garbage", ""); trace.SpanContextFromContext(ctx).IsValid() {
		t.Error("a malformed traceparent gave a valid span context")
	}
	ev := telemetry.StampEvent(ctx, events.Event{ID: "e"})
	if ev.TraceParent != tp || ev.TraceState != "vendor=abc" {
		t.Errorf("StampEvent = %+v", ev)
	}
	kept := telemetry.StampEvent(ctx, events.Event{ID: "e", TraceParent: "00-11111111111111111111111111111111-2222222222222222-01"})
	if kept.TraceParent == tp {
		t.Error("StampEvent replaced an event's own trace context")
	}
}

// TestOneTraceAcrossHops follows a request through a publish to a
// process span, as services do, and checks parents and names in what the
// exporter sent.
func TestOneTraceAcrossHops(t *testing.T) {
	t.Parallel()
	tel, rcv := newOn(t)

	var stamped events.Event
	r := chi.NewRouter()
	r.Post("/v1/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		stamped = telemetry.StampEvent(r.Context(), events.Event{ID: "e1", Type: "orderbus.order.placed.v1"})
		w.WriteHeader(http.StatusAccepted)
	})
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {})
	srv := tel.HTTPHandler(r)
	for _, path := range []string{"/v1/orders/42", "/healthz"} {
		method := http.MethodPost
		if path == "/healthz" {
			method = http.MethodGet
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		if rec.Code >= 300 {
			t.Fatalf("%s %s = %d", method, path, rec.Code)
		}
	}
	if stamped.TraceParent == "" {
		t.Fatal("the request's event got no traceparent")
	}
	// Later, the relay publishes it; a consumer processes it.
	sent, pub := tel.StartPublish(context.Background(), "orders.placed.c1", stamped)
	pub.End()
	_, proc := tel.StartProcess(context.Background(), "email", "orders.placed.c1", sent, 1)
	telemetry.EndSpan(proc, nil)
	if err := tel.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}

	spans := rcv.Spans()
	if len(spans) != 3 {
		t.Fatalf("got %d spans, want 3 (the probe untraced): %+v", len(spans), spans)
	}
	http, publish, process := spans[0], spans[1], spans[2]
	if http.Name != "POST /v1/orders/{id}" || http.Kind != "server" || http.Attrs["http.route"] != "/v1/orders/{id}" || http.Service != "svc" {
		t.Errorf("http span = %+v", http)
	}
	if publish.Name != "publish orderbus.order.placed.v1" || publish.Kind != "producer" || publish.ParentID != http.SpanID {
		t.Errorf("publish span = %+v, want a producer child of %s", publish, http.SpanID)
	}
	if process.Kind != "consumer" || process.ParentID != publish.SpanID || process.Attrs["messaging.consumer.group.name"] != "email" {
		t.Errorf("process span = %+v, want a consumer child of %s", process, publish.SpanID)
	}
	for _, s := range spans {
		if s.TraceID != http.TraceID {
			t.Errorf("span %s in trace %s, want %s", s.Name, s.TraceID, http.TraceID)
		}
	}
}

func TestHTTPHandlerContinuesIncomingTrace(t *testing.T) {
	t.Parallel()
	tel, rcv := newOn(t)
	r := chi.NewRouter()
	r.Get("/x", func(w http.ResponseWriter, r *http.Request) {})
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	tel.HTTPHandler(r).ServeHTTP(httptest.NewRecorder(), req)
	if err := tel.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	spans := rcv.Spans()
	if len(spans) != 1 || spans[0].TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" || spans[0].ParentID != "00f067aa0ba902b7" {
		t.Errorf("spans = %+v, want one child of the incoming traceparent", spans)
	}
}

func TestCloseIsBounded(t *testing.T) {
	t.Parallel()
	// A collector that never answers must not hold Close beyond ctx.
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	t.Cleanup(func() { close(hang); srv.Close() })
	tel := mustNew(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL})
	_, span := tel.Tracer().Start(t.Context(), "x")
	span.End()
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_ = tel.Close(ctx) // an error is expected: the export did not finish
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Close took %s with a 300ms context", d)
	}
}

func TestLogHandler(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(telemetry.LogHandler(slog.NewJSONHandler(&buf, nil))).With("service", "s")
	ctx := telemetry.ContextFromEvent(t.Context(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "")
	log.InfoContext(ctx, "traced")
	log.Info("untraced")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("log = %q", buf.String())
	}
	var traced, untraced map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &traced); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &untraced); err != nil {
		t.Fatal(err)
	}
	if traced["trace_id"] != "4bf92f3577b34da6a3ce929d0e0e4736" || traced["span_id"] != "00f067aa0ba902b7" || traced["service"] != "s" {
		t.Errorf("traced line = %v", traced)
	}
	if _, ok := untraced["trace_id"]; ok {
		t.Errorf("untraced line has a trace_id: %v", untraced)
	}
}

func TestHTTPTransportSendsTraceparent(t *testing.T) {
	t.Parallel()
	tel, rcv := newOn(t)
	got := make(chan string, 1)
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("traceparent")
	}))
	t.Cleanup(provider.Close)
	hc := &http.Client{Transport: tel.HTTPTransport(nil)}
	ctx, parent := tel.Tracer().Start(t.Context(), "process")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, provider.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	parent.End()
	tp := <-got
	if err := tel.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	traceID := parent.SpanContext().TraceID().String()
	var client oteltest.Span
	for _, s := range rcv.Spans() {
		if s.Kind == "client" {
			client = s
		}
	}
	if client.ParentID != parent.SpanContext().SpanID().String() || !strings.Contains(tp, traceID+"-"+client.SpanID) {
		t.Errorf("provider got traceparent %q; client span %+v; want the client span, child of %s", tp, client, parent.SpanContext().SpanID())
	}
}
