package main

import (
	"context"
	"fmt"
	"maps"
	"net/http"
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
const durableErasure = "order-erasure"

// TestErasureDeletesTheCustomersOrders erases a customer with three orders
// (one placed with an Idempotency-Key, one confirmed) and checks the one
// answer, that none of the customer's rows are left, that another
// customer's order is intact, that a redelivered request is answered once,
// and that a later request is answered again with zero counts.
func TestErasureDeletesTheCustomersOrders(t *testing.T) {
	t.Parallel()
	s := startEnv(t, nil)
	if _, body := s.Get("/readyz"); !strings.Contains(body, `"consumers":{"status":"ok"`) {
		t.Errorf("/readyz = %s, want the consumers check passed", body)
	}
	ada, bob := uuid.NewString(), uuid.NewString()
	const key = "erase-me-too"
	keyed := s.postOrder(t, orderBody(t, ada, "SKU-1", "SKU-2"), key)
	if keyed.status != http.StatusAccepted {
		t.Fatalf("place order with a key: %d %s", keyed.status, keyed.body)
	}
	var a createAnswer
	decodeJSON(t, keyed, &a)
	adaOrders := []string{s.placeOrder(t, ada, "SKU-1"), a.ID, s.placeOrder(t, ada, "SKU-3")}
	bobOrder := s.placeOrder(t, bob, "SKU-1", "SKU-2")
	subject, ev := inventoryReserved(t, adaOrders[0], ada) // a second history entry
	s.settled(t, servicetest.MustPublish(t, s.js, &nats.Msg{Subject: subject, Header: ev.Header(), Data: ev.Data}))

	// The request, and a copy past JetStream's dedup (the same ce-id), as
	// a redelivery after a lost ack would be.
	first := erasureRequest(t, ada)
	again := &nats.Msg{Subject: first.Subject, Header: nats.Header{}, Data: first.Data}
	maps.Copy(again.Header, first.Header)
	again.Header.Set(nats.MsgIdHdr, "again-"+first.Header.Get(nats.MsgIdHdr))
	servicetest.MustPublish(t, s.js, first)
	answers := s.erasureAnswers(t, servicetest.MustPublish(t, s.js, again), 1)

	want := map[string]int64{"orders": 3, "order_items": 4, "order_history": 4, "idempotency_keys": 1, "outbox": 0}
	if got := answers[0]; got.CustomerID != ada || got.Service != serviceName || !maps.Equal(got.Erased, want) {
		t.Errorf("answer = %+v, want %v of %s erased by %s", got, want, ada, serviceName)
	}
	left := s.rowsOf(t, ada, adaOrders)
	if want := map[string]int{"orders": 0, "order_items": 0, "order_history": 0, "idempotency_keys": 0}; !maps.Equal(left, want) {
		t.Errorf("rows left of the erased customer: %v, want none", left)
	}
	for _, id := range adaOrders {
		if r := s.do(t, http.MethodGet, "/v1/orders/"+id, nil, nil); r.status != http.StatusNotFound {
			t.Errorf("GET erased order %s = %d, want 404", id, r.status)
		}
	}
	if r := s.do(t, http.MethodGet, "/v1/orders?customer_id="+ada, nil, nil); !strings.Contains(string(r.body), `"orders":[]`) {
		t.Errorf("GET the erased customer's orders = %d %s, want none", r.status, r.body)
	}
	if got, want := s.rowsOf(t, bob, []string{bobOrder}), map[string]int{"orders": 1, "order_items": 2, "order_history": 1, "idempotency_keys": 0}; !maps.Equal(got, want) {
		t.Errorf("rows of the other customer: %v, want %v", got, want)
	}
	if o := s.getOrder(t, bobOrder); o.Customer == nil || o.Customer.Email != "ada@example.com" || len(o.Items) != 2 {
		t.Errorf("the other customer's order = %+v, want it whole", o)
	}

	// A later request finds nothing and answers again.
	answers = s.erasureAnswers(t, servicetest.MustPublish(t, s.js, erasureRequest(t, ada)), 2)
	zero := map[string]int64{"orders": 0, "order_items": 0, "order_history": 0, "idempotency_keys": 0, "outbox": 0}
	if got := answers[1].Erased; !maps.Equal(got, zero) {
		t.Errorf("second answer erased %v, want %v", got, zero)
	}

	// The key went with its order: a retry is a new order, not a replay.
	retry := s.postOrder(t, orderBody(t, ada, "SKU-1", "SKU-2"), key)
	var b createAnswer
	decodeJSON(t, retry, &b)
	if retry.status != http.StatusAccepted || retry.header.Get("Idempotent-Replayed") != "" || b.ID == a.ID {
		t.Errorf("retry with the erased key: %d %s, replayed %q; want a new order",
			retry.status, retry.body, retry.header.Get("Idempotent-Replayed"))
	}
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
func (s *testEnv) erasureAnswers(t *testing.T, seq uint64, n int) []events.ErasureCompleted {
	t.Helper()
	subject := events.ErasureCompletedSubject(serviceName)
	var msgs []*jetstream.RawStreamMsg
	servicetest.WaitFor(t, 20*time.Second, "the erasure answers", func() (bool, string) {
		msgs = servicetest.StreamMsgs(t, s.js, events.StreamGDPR, subject)
		ok, seen := servicetest.Settled(s.js, events.StreamGDPR, durableErasure, seq)
		pending := s.count(t, "outbox")
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

// rowsOf counts the rows the database holds of customer and of the orders
// (given by id): orders, their items, history and idempotency keys.
func (s *testEnv) rowsOf(t *testing.T, customer string, orders []string) map[string]int {
	t.Helper()
	got := map[string]int{}
	for kind, query := range map[string]string{
		"orders":           `SELECT count(*) FROM orders WHERE customer_id = $1 OR id::text = ANY($2)`,
		"order_items":      `SELECT count(*) FROM order_items WHERE order_id::text = ANY($2) OR order_id IN (SELECT id FROM orders WHERE customer_id = $1)`,
		"order_history":    `SELECT count(*) FROM order_history WHERE order_id::text = ANY($2) OR order_id IN (SELECT id FROM orders WHERE customer_id = $1)`,
		"idempotency_keys": `SELECT count(*) FROM idempotency_keys WHERE order_id::text = ANY($2) OR order_id IN (SELECT id FROM orders WHERE customer_id = $1)`,
	} {
		var n int
		if err := s.db.QueryRow(context.Background(), query, customer, orders).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", kind, err)
		}
		got[kind] = n
	}
	return got
}
