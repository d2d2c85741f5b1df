package natsjs_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
	"github.com/orderbus/orderbus/pkg/telemetry"
	"github.com/orderbus/orderbus/pkg/telemetry/oteltest"
)

// TestConsumerTracesEachDelivery checks that every delivery is a consumer
// span, child of the traceparent the message carries, that the handler's
// ctx carries it, and that a retried delivery is marked as such.
func TestConsumerTracesEachDelivery(t *testing.T) {
	t.Parallel()
	const (
		traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
		parent  = "00f067aa0ba902b7"
	)
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	rcv := oteltest.Start(t)
	tel, err := telemetry.New(t.Context(), func(k string) string {
		return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": rcv.Endpoint()}[k]
	}, "natsjs-test")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		handled []trace.SpanContext
	)
	h := func(ctx context.Context, m natsjs.Message) error {
		mu.Lock()
		defer mu.Unlock()
		handled = append(handled, trace.SpanContextFromContext(ctx))
		if m.NumDelivered == 1 {
			return errors.New("transient")
		}
		return nil
	}
	runConsumer(t, js, natsjs.ConsumerConfig{Stream: events.StreamOrders, Durable: "email",
		BackOff: []time.Duration{10 * time.Millisecond}, Telemetry: tel}, h)
	ev := newEvent(t, "c1")
	ev.TraceParent, ev.TraceState = "00-"+traceID+"-"+parent+"-01", "vendor=v"
	last := publish(t, js, ev)
	waitSettled(t, js, "email", last)
	if err := tel.Close(t.Context()); err != nil {
		t.Fatal(err)
	}

	spans := rcv.Spans()
	mu.Lock()
	defer mu.Unlock()
	if len(spans) != 2 || len(handled) != 2 {
		t.Fatalf("got %d spans and %d handler calls, want 2 each: %+v", len(spans), len(handled), spans)
	}
	for i, s := range spans {
		if s.TraceID != traceID || s.ParentID != parent || s.Kind != "consumer" || s.Name != "process "+events.TypeOrderPlaced {
			t.Errorf("span %d = %+v, want a consumer child of %s", i, s, parent)
		}
		if handled[i].SpanID().String() != s.SpanID || handled[i].TraceState().String() != "vendor=v" {
			t.Errorf("handler call %d ran under span %s (state %q), want %s", i, handled[i].SpanID(), handled[i].TraceState(), s.SpanID)
		}
	}
	if first := spans[0]; !first.Error || first.Attrs["orderbus.outcome"] != "retried" || first.Attrs["messaging.nats.delivery"] != "1" {
		t.Errorf("first delivery's span = %+v, want an error, outcome retried", first)
	}
	if second := spans[1]; second.Error || second.Attrs["orderbus.outcome"] != "acked" {
		t.Errorf("second delivery's span = %+v, want outcome acked", second)
	}
}
