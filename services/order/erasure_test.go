package main

import (
	"context"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/orderbus/orderbus/pkg/erasure/erasuretest"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

// TestErasureDeletesTheCustomersOrders erases a customer with three orders
// (one placed with an Idempotency-Key, one confirmed) and checks the one
// answer, that none of the customer's rows are left, that another
// customer's order is intact, that a redelivered request is answered once,
// and that a later request is answered again with zero counts.
func TestErasureDeletesTheCustomersOrders(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	if _, body := e.Get("/readyz"); !strings.Contains(body, `"consumers":{"status":"ok"`) {
		t.Errorf("/readyz = %s, want the consumers check passed", body)
	}
	ada, bob := uuid.NewString(), uuid.NewString()
	const key = "erase-me-too"
	keyed := e.postOrder(t, orderBody(t, ada, "SKU-1", "SKU-2"), key)
	if keyed.status != http.StatusAccepted {
		t.Fatalf("place order with a key: %d %s", keyed.status, keyed.body)
	}
	var a createAnswer
	decodeJSON(t, keyed, &a)
	adaOrders := []string{e.placeOrder(t, ada, "SKU-1"), a.ID, e.placeOrder(t, ada, "SKU-3")}
	bobOrder := e.placeOrder(t, bob, "SKU-1", "SKU-2")
	subject, ev := inventoryReserved(t, adaOrders[0], ada) // a second history entry
	e.settled(t, servicetest.MustPublish(t, e.js, &nats.Msg{Subject: subject, Header: ev.Header(), Data: ev.Data}))

	// The request, and a copy past JetStream's dedup (the same ce-id), as
	// a redelivery after a lost ack would be.
	first, _ := erasuretest.Request(t, ada)
	servicetest.MustPublish(t, e.js, first)
	answers := e.erasureAnswers(t, servicetest.MustPublish(t, e.js, erasuretest.Redelivered(first)), 1)

	want := map[string]int64{"orders": 3, "order_items": 4, "order_history": 4, "idempotency_keys": 1, "outbox": 0}
	if got := answers[0]; got.CustomerID != ada || got.Service != serviceName || !maps.Equal(got.Erased, want) {
		t.Errorf("answer = %+v, want %v of %s erased by %s", got, want, ada, serviceName)
	}
	left := e.rowsOf(t, ada, adaOrders)
	if want := map[string]int{"orders": 0, "order_items": 0, "order_history": 0, "idempotency_keys": 0}; !maps.Equal(left, want) {
		t.Errorf("rows left of the erased customer: %v, want none", left)
	}
	for _, id := range adaOrders {
		if r := e.do(t, http.MethodGet, "/v1/orders/"+id, asOperator(t), nil); r.status != http.StatusNotFound {
			t.Errorf("GET erased order %s = %d, want 404", id, r.status)
		}
	}
	if r := e.do(t, http.MethodGet, "/v1/orders?customer_id="+ada, asOperator(t), nil); !strings.Contains(string(r.body), `"orders":[]`) {
		t.Errorf("GET the erased customer's orders = %d %s, want none", r.status, r.body)
	}
	if got, want := e.rowsOf(t, bob, []string{bobOrder}), map[string]int{"orders": 1, "order_items": 2, "order_history": 1, "idempotency_keys": 0}; !maps.Equal(got, want) {
		t.Errorf("rows of the other customer: %v, want %v", got, want)
	}
	if o := e.getOrder(t, bobOrder); o.Customer == nil || o.Customer.Email != "ada@example.com" || len(o.Items) != 2 {
		t.Errorf("the other customer's order = %+v, want it whole", o)
	}

	// A later request finds nothing and answers again.
	later, _ := erasuretest.Request(t, ada)
	answers = e.erasureAnswers(t, servicetest.MustPublish(t, e.js, later), 2)
	zero := map[string]int64{"orders": 0, "order_items": 0, "order_history": 0, "idempotency_keys": 0, "outbox": 0}
	if got := answers[1].Erased; !maps.Equal(got, zero) {
		t.Errorf("second answer erased %v, want %v", got, zero)
	}

	// The key went with its order: a retry is a new order, not a replay.
	retry := e.postOrder(t, orderBody(t, ada, "SKU-1", "SKU-2"), key)
	var b createAnswer
	decodeJSON(t, retry, &b)
	if retry.status != http.StatusAccepted || retry.header.Get("Idempotent-Replayed") != "" || b.ID == a.ID {
		t.Errorf("retry with the erased key: %d %s, replayed %q; want a new order",
			retry.status, retry.body, retry.header.Get("Idempotent-Replayed"))
	}
}

// erasureAnswers waits until the erasure consumer has settled every GDPR
// message up to seq and the outbox is empty, and returns the service's
// answers, oldest first, failing unless there are n.
func (e *testEnv) erasureAnswers(t *testing.T, seq uint64, n int) []events.ErasureCompleted {
	t.Helper()
	return erasuretest.Answers(t, e.js, serviceName, seq, n, erasuretest.OutboxEmpty(t, e.db))
}

// rowsOf counts the rows the database holds of customer and of the orders
// (given by id): orders, their items, history and idempotency keys.
func (e *testEnv) rowsOf(t *testing.T, customer string, orders []string) map[string]int {
	t.Helper()
	got := map[string]int{}
	for kind, query := range map[string]string{
		"orders":           `SELECT count(*) FROM orders WHERE customer_id = $1 OR id::text = ANY($2)`,
		"order_items":      `SELECT count(*) FROM order_items WHERE order_id::text = ANY($2) OR order_id IN (SELECT id FROM orders WHERE customer_id = $1)`,
		"order_history":    `SELECT count(*) FROM order_history WHERE order_id::text = ANY($2) OR order_id IN (SELECT id FROM orders WHERE customer_id = $1)`,
		"idempotency_keys": `SELECT count(*) FROM idempotency_keys WHERE order_id::text = ANY($2) OR order_id IN (SELECT id FROM orders WHERE customer_id = $1)`,
	} {
		var n int
		if err := e.db.QueryRow(context.Background(), query, customer, orders).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", kind, err)
		}
		got[kind] = n
	}
	return got
}

// TestErasureTombstone: an inventory result for an order erased with its
// customer (still in flight in INVENTORY) is acknowledged without a
// change, a dead letter or an announcement (suppressed); a new order of
// the same customer placed after the erasure is confirmed as usual, and
// its announcement carries its placed_at. The verification then finds
// nothing left from before the cut-off: the new order stays.
func TestErasureTombstone(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	ada := uuid.NewString()
	erased := e.placeOrder(t, ada, "SKU-1")
	cutoff := time.Now().UTC()
	request, erasureID := erasuretest.RequestAt(t, ada, cutoff)
	e.erasureAnswers(t, servicetest.MustPublish(t, e.js, request), 1)

	subject, ev := inventoryReserved(t, erased, ada) // no placed_at: counts as before the cut-off
	e.settled(t, servicetest.MustPublish(t, e.js, &nats.Msg{Subject: subject, Header: ev.Header(), Data: ev.Data}))
	if dead := servicetest.StreamMsgs(t, e.js, events.StreamDLQ, events.DLQSubject(durableOrderInventory, subject)); len(dead) != 0 {
		t.Errorf("the erased order's result was dead-lettered")
	}
	if n := e.metric(t, `orders_inventory_results_total{outcome="suppressed",result="reserved"}`); n != 1 {
		t.Errorf("suppressed results = %d, want 1", n)
	}

	newer := e.placeOrder(t, ada, "SKU-2")
	got := e.getOrder(t, newer)
	subject, ev = inventoryReserved(t, newer, ada)
	var p events.InventoryReserved
	if err := ev.Decode(&p); err != nil {
		t.Fatal(err)
	}
	p.PlacedAt = got.CreatedAt
	ev, err := events.New(ev.Source, ev.Type, ev.Subject, p)
	if err != nil {
		t.Fatal(err)
	}
	e.settled(t, servicetest.MustPublish(t, e.js, &nats.Msg{Subject: subject, Header: ev.Header(), Data: ev.Data}))
	if o := e.getOrder(t, newer); o.Status != "confirmed" {
		t.Errorf("the new order is %s, want confirmed", o.Status)
	}
	confirmed := servicetest.StreamMsgs(t, e.js, events.StreamOrders, events.OrderConfirmedSubject(ada))
	if len(confirmed) != 1 {
		t.Fatalf("%d orders.confirmed of Ada, want the new order's 1", len(confirmed))
	}
	var c events.OrderConfirmed
	if ev, err := events.Parse(confirmed[0].Header, confirmed[0].Data); err != nil || ev.Decode(&c) != nil ||
		c.OrderID != newer || !c.PlacedAt.Equal(got.CreatedAt) {
		t.Errorf("orders.confirmed = %+v (%v), want the new order's with its placed_at %v", c, err, got.CreatedAt)
	}

	bound := servicetest.StreamLen(t, e.js, events.StreamInventory)
	servicetest.MustPublish(t, e.js, erasuretest.Verify(t, erasureID, ada, cutoff,
		map[string]uint64{events.StreamInventory: bound}))
	v := erasuretest.Verifications(t, e.js, serviceName, 1)[0]
	if v.Suppressed != 1 || v.Remaining["orders"] != 0 || v.Consumers[durableOrderInventory] < bound {
		t.Errorf("verification = %+v, want nothing remaining, 1 suppressed, order-inventory settled past %d", v, bound)
	}
	if o := e.getOrder(t, newer); o.Status != "confirmed" {
		t.Errorf("after the verification the new order is %s, want it kept, confirmed", o.Status)
	}
}

// TestOrderTimedBeforeACommittedErasure: an order whose time falls before
// the cut-off of an erasure of its customer that committed while it was
// being stored (simulated with a tombstone whose cut-off is ahead) is not
// stored: 409, nothing in the database or the outbox.
func TestOrderTimedBeforeACommittedErasure(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	ada := uuid.NewString()
	if _, err := e.db.Exec(context.Background(), `INSERT INTO erasure_tombstones (customer_id, erased_before, erasure_id)
		VALUES ($1, now() + interval '1 hour', $2)`, ada, uuid.NewString()); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"", "erased-meanwhile"} {
		r := e.postOrder(t, orderBody(t, ada, "SKU-1"), key)
		if r.status != http.StatusConflict || !strings.Contains(string(r.body), "erased") {
			t.Errorf("POST with key %q: %d %s, want 409", key, r.status, r.body)
		}
	}
	if n := e.count(t, "orders"); n != 0 {
		t.Errorf("%d orders stored, want none", n)
	}
	if n := e.count(t, "outbox") + e.count(t, "idempotency_keys"); n != 0 {
		t.Errorf("%d outbox rows and keys stored, want none", n)
	}
}
