package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/e2e/launcher"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/telemetry/oteltest"
)

// One order is one trace: the request span of POST /v1/orders, the
// publish of its event, the handling of it by inventory, email and sms
// (each a child of the publish, starting after it, with its database and
// SMTP spans beneath), inventory's result and the status change it causes
// in order; and the services' log lines name the trace. An erasure's
// fan-out is one trace too.
func TestOneTracePerOrder(t *testing.T) {
	t.Parallel()
	rcv := oteltest.Start(t)
	sys := newSystemWith(t, launcher.Config{OTLPEndpoint: rcv.Endpoint()})
	orders := placeOrders(t, sys, 1)
	waitOrdersDecided(t, sys, orders, time.Minute)

	traceID := waitOrderTrace(t, rcv, "order placed while the broker is up")
	if *tracePNG != "" {
		writeTracePNG(t, *tracePNG, rcv.Trace(traceID))
	}
	for _, name := range []string{"order", "inventory", "email", "sms"} {
		if !strings.Contains(sys.Process(name).Tail(1000), "trace_id="+traceID) {
			t.Errorf("no log line of %s names trace %s", name, traceID)
		}
	}

	// The erasure of that customer: request, participants, their answers.
	var customer string
	for _, o := range orders {
		customer = o.Customer.ID
	}
	waitErasure(t, sys, requestErasure(t, sys, customer), "erasure completed", completed)
	var erasure string
	eventually(t, 30*time.Second, "the erasure's trace", func(context.Context) (bool, string) {
		erasure = ""
		for _, s := range rcv.Spans() {
			if s.Service == "gdpr" && s.Name == "POST /v1/erasures" {
				erasure = s.TraceID
			}
		}
		if erasure == "" {
			return false, "no POST /v1/erasures span yet"
		}
		got := names(rcv.Trace(erasure))
		var missing []string
		for _, p := range []string{"order", "inventory", "email", "sms"} {
			for _, want := range []string{
				p + ": process " + events.TypeErasureRequested,
				p + ": publish " + events.TypeErasureCompleted,
			} {
				if !got[want] {
					missing = append(missing, want)
				}
			}
		}
		if !got["gdpr: process "+events.TypeErasureCompleted] {
			missing = append(missing, "gdpr: process "+events.TypeErasureCompleted)
		}
		return len(missing) == 0, fmt.Sprintf("missing %v in %v", missing, keys(got))
	})
}

// With the broker down when the order is placed, the outbox row keeps the
// request's trace context, and the relay's later publish continues it:
// the trace still reaches every consumer.
func TestTraceSurvivesRelay(t *testing.T) {
	t.Parallel()
	rcv := oteltest.Start(t)
	fastOutbox := map[string]string{"PUBLISH_TIMEOUT": "500ms", "OUTBOX_INTERVAL": "200ms"}
	sys := newSystemWith(t, launcher.Config{OTLPEndpoint: rcv.Endpoint(),
		Env: map[string]map[string]string{"order": fastOutbox, "inventory": fastOutbox}})

	if err := sys.NATS().Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	orders := placeOrders(t, sys, 1)
	traceparent := ""
	eventually(t, 10*time.Second, "the order's event waiting in the outbox", func(ctx context.Context) (bool, string) {
		conn, err := pgx.Connect(ctx, sys.DatabaseURL("order"))
		if err == nil {
			err = conn.QueryRow(ctx, `SELECT traceparent FROM outbox`).Scan(&traceparent)
			conn.Close(ctx)
		}
		return err == nil && traceparent != "", fmt.Sprintf("traceparent %q (%v)", traceparent, err)
	})
	if err := sys.NATS().Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	waitOrdersDecided(t, sys, orders, 90*time.Second)
	traceID := waitOrderTrace(t, rcv, "order relayed after the broker outage")
	if !strings.Contains(traceparent, "-"+traceID+"-") {
		t.Errorf("outbox row's traceparent %q is not of trace %s", traceparent, traceID)
	}
	spans := rcv.Trace(traceID)
	request, publish := find(spans, "order", "POST /v1/orders"), find(spans, "order", "publish "+events.TypeOrderPlaced)
	if !publish.Start.After(request.End) {
		t.Errorf("the relayed publish (%s) should start after the request ended (%s)", publish.Start, request.End)
	}
}

// waitOrderTrace waits until the one POST /v1/orders span's trace holds
// every span of an order's journey, checks their structure, and returns
// the trace id.
func waitOrderTrace(t *testing.T, rcv *oteltest.Receiver, what string) string {
	t.Helper()
	want := []string{
		"order: POST /v1/orders",
		"order: publish " + events.TypeOrderPlaced,
		"inventory: process " + events.TypeOrderPlaced,
		"inventory: publish " + events.TypeInventoryReserved,
		"email: process " + events.TypeOrderPlaced,
		"email: smtp send",
		"sms: process " + events.TypeOrderPlaced,
		"order: process " + events.TypeInventoryReserved,
		"order: publish " + events.TypeOrderConfirmed,
	}
	var traceID string
	eventually(t, 30*time.Second, what+": one trace through every service", func(context.Context) (bool, string) {
		var roots []string
		for _, s := range rcv.Spans() {
			if s.Name == "POST /v1/orders" {
				roots = append(roots, s.TraceID)
			}
		}
		if len(roots) != 1 {
			return false, fmt.Sprintf("%d POST /v1/orders spans, want 1", len(roots))
		}
		traceID = roots[0]
		got := names(rcv.Trace(traceID))
		var missing []string
		for _, w := range want {
			if !got[w] {
				missing = append(missing, w)
			}
		}
		return len(missing) == 0, fmt.Sprintf("trace %s lacks %v; has %v", traceID, missing, keys(got))
	})

	spans := rcv.Trace(traceID)
	byID := map[string]oteltest.Span{}
	for _, s := range spans {
		byID[s.SpanID] = s
	}
	request := find(spans, "order", "POST /v1/orders")
	if request.ParentID != "" || request.Kind != "server" || request.Attrs["http.route"] != "/v1/orders" {
		t.Errorf("request span = %+v, want a root server span of route /v1/orders", request)
	}
	// Every attempt to publish the order's event (the immediate one, the
	// relay's) continues the request. A publish whose PubAck timed out
	// may have been stored all the same: the next attempt is then
	// JetStream's duplicate, and the consumers see the first. So a
	// consumer's parent is one of the event's publishes, not necessarily
	// the one that succeeded.
	published := spansNamed(spans, "order", "publish "+events.TypeOrderPlaced)
	for _, publish := range published {
		if publish.ParentID != request.SpanID || publish.Kind != "producer" {
			t.Errorf("publish span's parent %s, kind %s; want a producer child of the request %s", publish.ParentID, publish.Kind, request.SpanID)
		}
	}
	for _, svc := range []string{"inventory", "email", "sms"} {
		p := find(spans, svc, "process "+events.TypeOrderPlaced)
		parent, ok := published[p.ParentID]
		if !ok || p.Kind != "consumer" {
			t.Errorf("%s's process span: parent %s, kind %s; want a consumer child of a publish of the order's event %v", svc, p.ParentID, p.Kind, keys(published))
		}
		if p.Start.Before(parent.Start) {
			t.Errorf("%s's process span starts at %s, before its publish at %s", svc, p.Start, parent.Start)
		}
		if !hasChild(spans, p.SpanID, func(c oteltest.Span) bool { return c.Attrs["db.system.name"] == "postgresql" }) {
			t.Errorf("%s's process span has no database span beneath", svc)
		}
	}
	smtp := find(spans, "email", "smtp send")
	if byID[smtp.ParentID].Name != "process "+events.TypeOrderPlaced || smtp.Kind != "client" {
		t.Errorf("smtp span's parent is %q, want email's process span", byID[smtp.ParentID].Name)
	}
	// The status change continues the trace: inventory's result, its
	// handling by order, and the announcement.
	results := spansNamed(spans, "inventory", "publish "+events.TypeInventoryReserved)
	change := find(spans, "order", "process "+events.TypeInventoryReserved)
	changes := spansNamed(spans, "order", "process "+events.TypeInventoryReserved)
	confirmed := find(spans, "order", "publish "+events.TypeOrderConfirmed)
	if _, ok := results[change.ParentID]; !ok {
		t.Errorf("status change: process parent %s, want one of inventory's publishes %v", change.ParentID, keys(results))
	}
	if _, ok := changes[confirmed.ParentID]; !ok {
		t.Errorf("status change: confirmed publish parent %s, want one of order's process spans %v", confirmed.ParentID, keys(changes))
	}
	return traceID
}

// names returns "service: span name" of each span.
func names(spans []oteltest.Span) map[string]bool {
	out := map[string]bool{}
	for _, s := range spans {
		out[s.Service+": "+s.Name] = true
	}
	return out
}

// keys returns m's keys, sorted.
func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// find returns the first span of service named name that did not fail
// (an immediate publish that timed out while the broker was going down is
// followed by the relay's successful one), or a failed one if none did.
func find(spans []oteltest.Span, service, name string) oteltest.Span {
	var failed oteltest.Span
	for _, s := range spans {
		if s.Service != service || s.Name != name {
			continue
		}
		if !s.Error {
			return s
		}
		failed = s
	}
	return failed
}

// spansNamed returns the spans of service named name, by span id.
func spansNamed(spans []oteltest.Span, service, name string) map[string]oteltest.Span {
	out := map[string]oteltest.Span{}
	for _, s := range spans {
		if s.Service == service && s.Name == name {
			out[s.SpanID] = s
		}
	}
	return out
}

// hasChild reports whether a direct child of parent satisfies ok.
func hasChild(spans []oteltest.Span, parent string, ok func(oteltest.Span) bool) bool {
	for _, s := range spans {
		if s.ParentID == parent && ok(s) {
			return true
		}
	}
	return false
}
