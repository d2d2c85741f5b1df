package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
)

// placeOrder places an order for customerID with the given SKUs and
// returns its id.
func (s *testService) placeOrder(t *testing.T, customerID string, skus ...string) string {
	t.Helper()
	resp := s.postOrder(t, orderBody(t, customerID, skus...), "")
	if resp.status != http.StatusAccepted {
		t.Fatalf("place order: %d %s", resp.status, resp.body)
	}
	var a createAnswer
	decodeJSON(t, resp, &a)
	return a.ID
}

// getOrder returns GET /v1/orders/{id}, which must answer 200.
func (s *testService) getOrder(t *testing.T, id string) orderAnswer {
	t.Helper()
	resp := s.do(t, http.MethodGet, "/v1/orders/"+id, nil, nil)
	if resp.status != http.StatusOK {
		t.Fatalf("GET order %s: %d %s", id, resp.status, resp.body)
	}
	var o orderAnswer
	decodeJSON(t, resp, &o)
	return o
}

// inventoryReserved returns an inventory reserved event for the order.
func inventoryReserved(t *testing.T, orderID, customerID string) (string, events.Event) {
	t.Helper()
	ev, err := events.New("/orderbus/inventory", events.TypeInventoryReserved, orderID, events.InventoryReserved{
		OrderID: orderID, CustomerID: customerID, ReservedAt: time.Now().UTC(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return events.InventoryReservedSubject(customerID), ev
}

// inventoryRejected returns an inventory rejected event for the order.
func inventoryRejected(t *testing.T, orderID, customerID string, missing ...string) (string, events.Event) {
	t.Helper()
	ev, err := events.New("/orderbus/inventory", events.TypeInventoryRejected, orderID, events.InventoryRejected{
		OrderID: orderID, CustomerID: customerID, MissingSKUs: missing, RejectedAt: time.Now().UTC(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return events.InventoryRejectedSubject(customerID), ev
}

// publishMsg stores msg in its stream and returns its sequence. It fails
// the test if JetStream drops it as a duplicate.
func (s *testService) publishMsg(t *testing.T, msg *nats.Msg) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ack, err := s.js.PublishMsg(ctx, msg)
	if err != nil {
		t.Fatalf("publish on %s: %v", msg.Subject, err)
	}
	if ack.Duplicate {
		t.Fatalf("message on %s dropped as a duplicate", msg.Subject)
	}
	return ack.Sequence
}

// settled waits until the order-inventory consumer has acknowledged (or
// terminated) every INVENTORY message up to seq and holds none, and the
// outbox is empty.
func (s *testService) settled(t *testing.T, seq uint64) {
	t.Helper()
	waitFor(t, 15*time.Second, "the order-inventory consumer to settle and the outbox to empty", func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cons, err := s.js.Consumer(ctx, events.StreamInventory, durableOrderInventory)
		if err != nil {
			return false, err.Error()
		}
		info, err := cons.Info(ctx)
		if err != nil {
			return false, err.Error()
		}
		pending := s.count(t, "outbox")
		ok := info.AckFloor.Stream >= seq && info.NumAckPending == 0 && info.NumPending == 0 && pending == 0
		return ok, fmt.Sprintf("ack floor %d (want %d), ack pending %d, pending %d, outbox rows %d",
			info.AckFloor.Stream, seq, info.NumAckPending, info.NumPending, pending)
	})
}

// subjectMsgs returns the messages stored in stream on subject, oldest first.
func (s *testService) subjectMsgs(t *testing.T, stream, subject string) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := s.js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		t.Fatalf("stream %s info: %v", stream, err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; info.State.Subjects[subject] > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil || m.Subject != subject {
			continue // deleted, or another subject
		}
		out = append(out, m)
	}
	return out
}
