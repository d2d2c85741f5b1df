package outbox_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natstest"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/telemetry"
	"github.com/orderbus/orderbus/pkg/telemetry/oteltest"
)

const (
	parentTrace = "0af7651916cd43dd8448eb211c80319c"
	parentSpan  = "b7ad6b7169203331"
)

// TestTraceContextStoredAndPublished checks that the trace context of the
// enqueuing transaction is stored in the row (traceparent and tracestate)
// and that the relay publishes it: as is without tracing, as its own
// publish span's context (a child of the stored one) with tracing on.
func TestTraceContextStoredAndPublished(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := oteltest.Start(t)
	tel, err := telemetry.New(t.Context(), func(k string) string {
		return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": rcv.Endpoint()}[k]
	}, "outbox-test")
	if err != nil {
		t.Fatal(err)
	}
	traced, err := outbox.NewRelay(outbox.RelayConfig{Pool: e.pool, Publisher: e.pub, Logger: natstest.Logger(t), Telemetry: tel})
	if err != nil {
		t.Fatal(err)
	}
	ctx := telemetry.ContextFromEvent(t.Context(), "00-"+parentTrace+"-"+parentSpan+"-01", "vendor=v1")

	plain, viaBatch := newEvent(t, "c1"), newEvent(t, "c2")
	plain.TraceParent, viaBatch.TraceParent = "", "" // newEvent sets one
	err = pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
		return outbox.Enqueue(ctx, tx, subjectOf(plain), plain)
	})
	if err != nil {
		t.Fatal(err)
	}
	b := &pgx.Batch{}
	if err := outbox.QueueEnqueue(ctx, b, subjectOf(viaBatch), viaBatch); err != nil {
		t.Fatal(err)
	}
	if err := e.pool.SendBatch(ctx, b).Close(); err != nil {
		t.Fatal(err)
	}
	var tp, ts string
	if err := e.pool.QueryRow(t.Context(), `SELECT traceparent, tracestate FROM outbox WHERE id = $1`, viaBatch.ID).Scan(&tp, &ts); err != nil {
		t.Fatal(err)
	}
	if tp != "00-"+parentTrace+"-"+parentSpan+"-01" || ts != "vendor=v1" {
		t.Errorf("stored trace context = %q, %q", tp, ts)
	}

	// Untraced relay: the stored context goes out as is.
	if err := e.relay.Publish(context.Background(), plain.ID); err != nil {
		t.Fatal(err)
	}
	got := lastEvent(t, e, subjectOf(plain))
	if got.TraceParent != "00-"+parentTrace+"-"+parentSpan+"-01" || got.TraceState != "vendor=v1" {
		t.Errorf("untraced publish sent %q, %q", got.TraceParent, got.TraceState)
	}

	// Traced relay, long after the request (a background ctx): the
	// header is the publish span's, in the stored trace.
	if err := traced.Publish(context.Background(), viaBatch.ID); err != nil {
		t.Fatal(err)
	}
	got = lastEvent(t, e, subjectOf(viaBatch))
	if !strings.HasPrefix(got.TraceParent, "00-"+parentTrace+"-") || strings.Contains(got.TraceParent, parentSpan) || got.TraceState != "vendor=v1" {
		t.Errorf("traced publish sent %q, %q; want a new span of trace %s", got.TraceParent, got.TraceState, parentTrace)
	}
	if err := tel.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	spans := rcv.Spans()
	if len(spans) != 1 || spans[0].ParentID != parentSpan || spans[0].Kind != "producer" ||
		spans[0].Name != "publish "+events.TypeOrderPlaced || !strings.Contains(got.TraceParent, spans[0].SpanID) {
		t.Errorf("spans = %+v, want one producer span, child of %s, whose id the header carries", spans, parentSpan)
	}
}

func lastEvent(t *testing.T, e *env, subject string) events.Event {
	t.Helper()
	msg, err := streamOf(t, e.js).GetLastMsgForSubject(t.Context(), subject)
	if err != nil {
		t.Fatalf("no message on %s: %v", subject, err)
	}
	ev, err := events.Parse(msg.Header, msg.Data)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}
