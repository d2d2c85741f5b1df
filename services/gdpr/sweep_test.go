package main

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natstest"
)

// TestSweepCompletesAnsweredErasures: an erasure every participant has
// answered but that is still pending (its last answer ran out of
// deliveries, say) is completed by the sweep, purge included.
func TestSweepCompletesAnsweredErasures(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	_, js := natstest.Connect(t, natstest.Start(t))
	answered := mustRequest(t, s, "order")
	mustAnswer(t, s, answered, "order", time.Now(), map[string]int64{"orders": 1})
	waiting := mustRequest(t, s, "order", "sms")
	mustAnswer(t, s, waiting, "order", time.Now(), map[string]int64{"orders": 1})
	for _, c := range []uuid.UUID{answered.CustomerID, waiting.CustomerID} {
		ev, err := events.New("/test", events.TypeOrderPlaced, "o", map[string]string{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.PublishMsg(context.Background(), &nats.Msg{Subject: events.OrderPlacedSubject(c.String()), Header: ev.Header(), Data: ev.Data}); err != nil {
			t.Fatal(err)
		}
	}
	c := newTestCompleter(t, s, (&purger{js: js}).purge)
	n, err := c.sweep(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("sweep = %d, %v; want 1 completed", n, err)
	}
	for _, tc := range []struct {
		e          erasure
		wantStatus string
		wantMsgs   uint64
	}{{answered, statusCompleted, 0}, {waiting, statusPending, 1}} {
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
}
