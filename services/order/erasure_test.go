package main

import (
	"context"
	"maps"
	"net/http"
	"strings"
	"testing"

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
