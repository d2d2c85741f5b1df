package main

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

// durableErasure is the erasure consumer's name, part of the contract with
// the gdpr service: renaming it would deliver every erasure request again.
const durableErasure = "inventory-erasure"

// TestErasureClearsTheCustomerFromReservations erases a customer with
// three reservations (two reserved, one rejected) and checks the one
// answer, that the reservations stay, lines and stock untouched, without
// the customer id, that another customer's reservation is intact, that a
// redelivered request is answered once, and that a later request is
// answered again with zero counts.
func TestErasureClearsTheCustomerFromReservations(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	sku, scarce := newSKU("E"), newSKU("ESCARCE")
	e.setStock(t, sku, 10)
	e.setStock(t, scarce, 0)
	ada, bob := uuid.NewString(), uuid.NewString()
	var adaOrders []string
	var last uint64
	for _, o := range []struct {
		customer string
		item     events.Item
	}{
		{ada, events.Item{SKU: sku, Quantity: 1}},
		{ada, events.Item{SKU: sku, Quantity: 2}},
		{ada, events.Item{SKU: scarce, Quantity: 1}}, // rejected
		{bob, events.Item{SKU: sku, Quantity: 3}},
	} {
		ev, p := orderPlacedFor(t, o.customer, o.item)
		last = e.mustPublish(t, ev, o.customer)
		if o.customer == ada {
			adaOrders = append(adaOrders, p.OrderID)
		}
	}
	e.settled(t, last)
	before := map[string]*storedReservation{}
	for _, id := range adaOrders {
		before[id] = e.reservation(t, id)
	}
	if n := e.level(t, sku); n != 4 {
		t.Fatalf("stock of %s = %d before the erasure, want 4", sku, n)
	}

	// The request, and a copy past JetStream's dedup (the same ce-id), as
	// a redelivery after a lost ack would be.
	first := erasureRequest(t, ada)
	again := &nats.Msg{Subject: first.Subject, Header: nats.Header{}, Data: first.Data}
	maps.Copy(again.Header, first.Header)
	again.Header.Set(nats.MsgIdHdr, "again-"+first.Header.Get(nats.MsgIdHdr))
	servicetest.MustPublish(t, e.js, first)
	answers := e.erasureAnswers(t, servicetest.MustPublish(t, e.js, again), 1)

	if got, want := answers[0], map[string]int64{"reservations": 3, "outbox": 0}; got.CustomerID != ada ||
		got.Service != serviceName || !maps.Equal(got.Erased, want) {
		t.Errorf("answer = %+v, want %v of %s erased by %s", got, want, ada, serviceName)
	}
	var named int
	if err := e.db.QueryRow(context.Background(), `SELECT count(*) FROM reservations WHERE customer_id = $1`, ada).Scan(&named); err != nil || named != 0 {
		t.Errorf("%d reservations still name the erased customer (%v), want none", named, err)
	}
	for _, id := range adaOrders {
		r, was := e.reservation(t, id), before[id]
		if r == nil || r.CustomerID != "" || r.Status != was.Status || !maps.Equal(r.Lines, was.Lines) ||
			strings.Join(r.Missing, ",") != strings.Join(was.Missing, ",") || !r.CreatedAt.Equal(was.CreatedAt) {
			t.Errorf("reservation of %s = %+v after the erasure, want %+v without the customer", id, r, was)
		}
	}
	if a, b := e.level(t, sku), e.level(t, scarce); a != 4 || b != 0 {
		t.Errorf("stock = %d and %d after the erasure, want 4 and 0 (unchanged)", a, b)
	}
	var bobs int
	if err := e.db.QueryRow(context.Background(), `SELECT count(*) FROM reservations WHERE customer_id = $1`, bob).Scan(&bobs); err != nil || bobs != 1 {
		t.Errorf("the other customer has %d reservations (%v), want 1", bobs, err)
	}

	// A later request finds nothing and answers again.
	answers = e.erasureAnswers(t, servicetest.MustPublish(t, e.js, erasureRequest(t, ada)), 2)
	if got, want := answers[1].Erased, map[string]int64{"reservations": 0, "outbox": 0}; !maps.Equal(got, want) {
		t.Errorf("second answer erased %v, want %v", got, want)
	}
	e.assertNoPersonalData(t)
}

// orderPlacedFor returns an order placed event for a new order of
// customer with the given items.
func orderPlacedFor(t *testing.T, customer string, items ...events.Item) (events.Event, events.OrderPlaced) {
	t.Helper()
	_, p := newOrderPlaced(t, items...)
	p.Customer.ID = customer
	ev, err := events.New("/orderbus/order", events.TypeOrderPlaced, p.OrderID, p)
	if err != nil {
		t.Fatal(err)
	}
	return ev, p
}

// erasureRequest returns a new erasure request for customer, as the gdpr
// service publishes it.
func erasureRequest(t *testing.T, customer string) *nats.Msg {
	t.Helper()
	id := uuid.NewString()
	ev, err := events.New("/orderbus/gdpr", events.TypeErasureRequested, id,
		events.ErasureRequested{ErasureID: id, CustomerID: customer, RequestedAt: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	return &nats.Msg{Subject: events.SubjectErasureRequested, Header: ev.Header(), Data: ev.Data}
}

// erasureAnswers waits until the erasure consumer has settled every GDPR
// message up to seq and the outbox is empty, and returns the service's
// answers, oldest first, failing unless there are n.
func (e *testEnv) erasureAnswers(t *testing.T, seq uint64, n int) []events.ErasureCompleted {
	t.Helper()
	subject := events.ErasureCompletedSubject(serviceName)
	var msgs []*jetstream.RawStreamMsg
	servicetest.WaitFor(t, 20*time.Second, "the erasure answers", func() (bool, string) {
		msgs = servicetest.StreamMsgs(t, e.js, events.StreamGDPR, subject)
		ok, seen := servicetest.Settled(e.js, events.StreamGDPR, durableErasure, seq)
		pending := e.count(t, "outbox")
		return ok && pending == 0 && len(msgs) >= n, fmt.Sprintf("%d answers; %s; outbox rows %d", len(msgs), seen, pending)
	})
	if len(msgs) != n {
		t.Fatalf("%d answers on %s, want %d", len(msgs), subject, n)
	}
	out := make([]events.ErasureCompleted, n)
	for i, m := range msgs {
		ev, err := events.Parse(m.Header, m.Data)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Source != eventSource || ev.Type != events.TypeErasureCompleted {
			t.Errorf("answer source %q, type %q; want %s, %s", ev.Source, ev.Type, eventSource, events.TypeErasureCompleted)
		}
		if err := ev.Decode(&out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
