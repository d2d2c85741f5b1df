package main

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/orderbus/orderbus/pkg/erasure/erasuretest"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

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
	first, _ := erasuretest.Request(t, ada)
	servicetest.MustPublish(t, e.js, first)
	answers := e.erasureAnswers(t, servicetest.MustPublish(t, e.js, erasuretest.Redelivered(first)), 1)

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
	later, _ := erasuretest.Request(t, ada)
	answers = e.erasureAnswers(t, servicetest.MustPublish(t, e.js, later), 2)
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

// erasureAnswers waits until the erasure consumer has settled every GDPR
// message up to seq and the outbox is empty, and returns the service's
// answers, oldest first, failing unless there are n.
func (e *testEnv) erasureAnswers(t *testing.T, seq uint64, n int) []events.ErasureCompleted {
	t.Helper()
	return erasuretest.Answers(t, e.js, serviceName, seq, n, erasuretest.OutboxEmpty(t, e.db))
}

// TestErasureTombstone: after Ada's erasure, an order of hers placed
// before its cut-off reserves and announces nothing (suppressed), and a
// poison one is terminated without a dead letter; one placed after the
// cut-off is a new order, reserved with her id and announced with its
// placed_at. The verification then finds nothing left and reports the
// suppression and the consumer's ack floor.
func TestErasureTombstone(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	sku := newSKU("T")
	e.setStock(t, sku, 10)
	ada := uuid.NewString()
	cutoff := time.Now().UTC()
	request, erasureID := erasuretest.RequestAt(t, ada, cutoff)
	e.erasureAnswers(t, servicetest.MustPublish(t, e.js, request), 1)

	placed := func(at time.Time, q int) (events.Event, events.OrderPlaced) {
		_, p := orderPlacedFor(t, ada, events.Item{SKU: sku, Quantity: q})
		p.PlacedAt = at
		ev, err := events.New("/orderbus/order", events.TypeOrderPlaced, p.OrderID, p)
		if err != nil {
			t.Fatal(err)
		}
		return ev, p
	}
	oldEv, old := placed(cutoff.Add(-time.Minute), 1)
	poisonEv, _ := placed(cutoff.Add(-time.Minute), 0) // quantity 0: dead-lettered, were it not erased
	newEv, newer := placed(cutoff.Add(time.Minute), 2)
	e.mustPublish(t, oldEv, ada)
	e.mustPublish(t, poisonEv, ada)
	e.settled(t, e.mustPublish(t, newEv, ada))

	if r := e.reservation(t, old.OrderID); r != nil {
		t.Errorf("the erased order was reserved: %+v", r)
	}
	if r := e.reservation(t, newer.OrderID); r == nil || r.CustomerID != ada || r.Status != "reserved" {
		t.Errorf("the new order's reservation = %+v, want reserved for Ada", r)
	}
	if n := e.level(t, sku); n != 8 {
		t.Errorf("stock = %d, want 8 (only the new order reserved)", n)
	}
	if got := e.results(t, events.InventoryReservedSubject(ada)); got[events.InventoryReservedSubject(ada)] != 1 {
		t.Errorf("results of Ada = %v, want the new order's only", got)
	}
	var res events.InventoryReserved
	if ev, err := events.Parse(e.lastResult(t, events.InventoryReservedSubject(ada)).Header,
		e.lastResult(t, events.InventoryReservedSubject(ada)).Data); err != nil || ev.Decode(&res) != nil ||
		!res.PlacedAt.Equal(newer.PlacedAt) {
		t.Errorf("the result carries placed_at %v (%v), want the order's %v", res.PlacedAt, err, newer.PlacedAt)
	}
	if m := e.dlq(t, events.OrderPlacedSubject(ada)); len(m) != 0 {
		t.Errorf("%d dead letters of the erased customer, want none", len(m))
	}
	for series, want := range map[string]float64{
		`inventory_reservations_total{outcome="suppressed"}`:                                     1,
		`orderbus_erasure_suppressed_total{consumer="inventory"}`:                                1,
		`orderbus_erasure_suppressed_total{consumer="dlq"}`:                                      1,
		`orderbus_consumer_messages_total{durable="inventory",outcome="dead_letter_suppressed"}`: 1,
	} {
		if got := e.metric(t, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}

	bound := servicetest.StreamLen(t, e.js, events.StreamOrders)
	servicetest.MustPublish(t, e.js, erasuretest.Verify(t, erasureID, ada, cutoff,
		map[string]uint64{events.StreamOrders: bound}))
	v := erasuretest.Verifications(t, e.js, serviceName, 1)[0]
	if v.Suppressed != 1 || !maps.Equal(v.Remaining, map[string]int64{"reservations": 0, "outbox": 0}) ||
		v.Consumers[durableInventory] < bound {
		t.Errorf("verification = %+v, want nothing remaining, 1 suppressed, inventory settled past %d", v, bound)
	}
}
