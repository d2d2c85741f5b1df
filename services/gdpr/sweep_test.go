package main

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natstest"
)

// TestSweepCompletesAnsweredErasures: an erasure every participant has
// answered but that is still pending (its last answer ran out of
// deliveries, say) is purged by the sweep, and completed by a later one
// once verified. The purge is bounded: the customer's messages about
// orders placed after the erasure's cut-off stay, older ones around them
// go, and so do dead-lettered GDPR messages naming the customer.
func TestSweepCompletesAnsweredErasures(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	_, js := natstest.Connect(t, natstest.Start(t))
	answered := mustRequest(t, s, "order")
	mustAnswer(t, s, answered, "order", time.Now(), map[string]int64{"orders": 1})
	waiting := mustRequest(t, s, "order", "sms")
	mustAnswer(t, s, waiting, "order", time.Now(), map[string]int64{"orders": 1})
	publish := func(subject string, data any) {
		t.Helper()
		ev, err := events.New("/test", events.TypeOrderPlaced, "o", data)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.PublishMsg(context.Background(), &nats.Msg{Subject: subject, Header: ev.Header(), Data: ev.Data}); err != nil {
			t.Fatal(err)
		}
	}
	old, later := answered.RequestedAt.Add(-time.Second), answered.RequestedAt.Add(time.Second)
	publish(events.OrderPlacedSubject(answered.CustomerID.String()), map[string]any{"placed_at": old})
	publish(events.OrderPlacedSubject(waiting.CustomerID.String()), map[string]any{})
	publish(events.OrderPlacedSubject(answered.CustomerID.String()), map[string]any{"placed_at": later}) // a new order: kept
	publish(events.OrderConfirmedSubject(answered.CustomerID.String()), map[string]any{"placed_at": old})
	publish(events.DLQSubject("order-erasure", events.SubjectErasureRequested), map[string]any{"customer_id": answered.CustomerID})
	publish(events.DLQSubject("sms-erasure", events.SubjectErasureRequested), map[string]any{"customer_id": waiting.CustomerID})

	c := newTestCompleter(t, s, nil)
	c.purge = (&purger{js: js}).purge
	n, err := c.sweep(context.Background())
	if err != nil || n != 0 {
		t.Fatalf("sweep = %d, %v; want 0 completed (purged, verification pending)", n, err)
	}
	got, err := s.Erasure(context.Background(), answered.ID)
	if err != nil || got.Purge == nil || got.Purge.Removed[events.StreamOrders] != 2 || got.Purge.Removed[events.StreamDLQ] != 1 ||
		got.Purge.Bounds[events.StreamOrders] != 4 {
		t.Fatalf("purge = %+v (%v), want 2 removed from ORDERS (bound 4), 1 from DLQ", got.Purge, err)
	}
	if got := mustVerify(t, s, answered, "order"); got != verificationRecorded {
		t.Fatalf("verification: %s", got)
	}
	if n, err = c.sweep(context.Background()); err != nil || n != 1 {
		t.Fatalf("sweep = %d, %v; want 1 completed", n, err)
	}
	for _, tc := range []struct {
		e          erasure
		wantStatus string
		wantMsgs   uint64
	}{{answered, statusCompleted, 1}, {waiting, statusPending, 1}} {
		got, err := s.Erasure(context.Background(), tc.e.ID)
		if err != nil || got.Status != tc.wantStatus {
			t.Errorf("erasure %s = %s (%v), want %s", tc.e.ID, got.Status, err, tc.wantStatus)
		}
		stream, err := js.Stream(context.Background(), events.StreamOrders)
		if err != nil {
			t.Fatal(err)
		}
		subject := events.OrderPlacedSubject(tc.e.CustomerID.String())
		info, err := stream.Info(context.Background(), jetstream.WithSubjectFilter(subject))
		if err != nil {
			t.Fatal(err)
		}
		if got := info.State.Subjects[subject]; got != tc.wantMsgs {
			t.Errorf("%s holds %d messages, want %d", subject, got, tc.wantMsgs)
		}
	}
	dlq, err := js.Stream(context.Background(), events.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := dlq.Info(context.Background()); err != nil || info.State.Msgs != 1 {
		t.Errorf("DLQ holds %v messages (%v), want the other customer's 1", info.State.Msgs, err)
	}
}
