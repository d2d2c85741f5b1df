package main

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

// TestConcurrentOrdersShareTransactions sends two bursts of orders, each
// all at once, so that placement groups form. In the first, eight are one
// retried request (same customer, key and body) in flight together; in
// the second, four more copies of it come after its order committed, so
// their inserts of the taken key fail their groups' transactions, which
// must set them aside and store the rest. Every request is answered 202;
// every copy of the retried request names one order; every order is
// stored once, with its items, and its event published once (the ORDERS
// stream holds exactly the answered orders, the outbox empties); and the
// orders of each burst shared transactions.
func TestConcurrentOrdersShareTransactions(t *testing.T) {
	t.Parallel()
	e := startEnv(t, map[string]string{"RATE_LIMIT_ORDERS": "0"})
	retried := placeRequest{orderBody(t, uuid.NewString(), "SKU-3"), "retried-key"}
	fresh := func(n int) []placeRequest {
		var reqs []placeRequest
		for i := range n {
			key := ""
			if i%2 == 0 {
				key = uuid.NewString()
			}
			reqs = append(reqs, placeRequest{orderBody(t, uuid.NewString(), "SKU-1", "SKU-2"), key})
		}
		return reqs
	}

	first, firstCopies := e.burst(t, fresh(48), retried, 8)
	second, secondCopies := e.burst(t, fresh(16), retried, 4)
	if copies := slices.Compact(slices.Sorted(slices.Values(append(firstCopies, secondCopies...)))); len(copies) != 1 {
		t.Errorf("the retried request's answers name orders %v, want one", copies)
	}

	ids := map[string]bool{}
	for _, id := range append(append(first, second...), firstCopies[0]) {
		ids[id] = true
	}
	want := len(first) + len(second) + 1
	if len(ids) != want {
		t.Fatalf("answers name %d orders, want %d", len(ids), want)
	}
	for table, n := range map[string]int{"orders": want, "order_items": 2*(want-1) + 1, "order_history": want,
		"idempotency_keys": 24 + 8 + 1} {
		if got := e.count(t, table); got != n {
			t.Errorf("%s holds %d rows, want %d", table, got, n)
		}
	}
	servicetest.WaitFor(t, 15*time.Second, "every event published and the outbox empty", func() (bool, string) {
		msgs, outbox := e.streamMsgs(t), e.count(t, "outbox")
		return msgs == uint64(want) && outbox == 0, fmt.Sprintf("%d events in ORDERS, %d outbox rows", msgs, outbox)
	})
	published := e.publishedOrderIDs(t, want)
	for id := range ids {
		if !published[id] {
			t.Errorf("order %s: no order-placed event in ORDERS", id)
		}
	}

	for name, orders := range map[string][]string{"first": first, "second": second} {
		var txs int
		if err := e.db.QueryRow(t.Context(), `SELECT count(DISTINCT xmin::text) FROM orders WHERE id = ANY($1::uuid[])`,
			orders).Scan(&txs); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s burst: %d new orders stored in %d transactions", name, len(orders), txs)
		if txs >= len(orders) {
			t.Errorf("%s burst: %d transactions for %d orders: no order shared one", name, txs, len(orders))
		}
	}
}

// placeRequest is the body of an order request and its Idempotency-Key
// ("" for none).
type placeRequest struct {
	body []byte
	key  string
}

// burst sends reqs and copies of copied all at once, checks that each is
// answered 202, and returns the ids of the orders answered to reqs and to
// the copies.
func (e *testEnv) burst(t *testing.T, reqs []placeRequest, copied placeRequest, copies int) (ids, copyIDs []string) {
	t.Helper()
	for range copies {
		reqs = append(reqs, copied)
	}
	answers := make([]response, len(reqs))
	errs := make([]error, len(reqs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() {
			h := map[string]string{"Content-Type": "application/json"}
			if r.key != "" {
				h["Idempotency-Key"] = r.key
			}
			<-start
			answers[i], errs[i] = e.send(http.MethodPost, "/v1/orders", h, r.body)
		})
	}
	close(start)
	wg.Wait()
	for i, a := range answers {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if a.status != http.StatusAccepted {
			t.Fatalf("request %d: status %d, want 202; body %s", i, a.status, a.body)
		}
		var got createAnswer
		decodeJSON(t, a, &got)
		if i < len(reqs)-copies {
			ids = append(ids, got.ID)
		} else {
			copyIDs = append(copyIDs, got.ID)
		}
	}
	return ids, copyIDs
}

// publishedOrderIDs reads the n messages of the ORDERS stream and returns
// the order ids (ce-subject) they carry, failing on a repeated one.
func (e *testEnv) publishedOrderIDs(t *testing.T, n int) map[string]bool {
	t.Helper()
	s, err := e.js.Stream(t.Context(), events.StreamOrders)
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	c, err := s.OrderedConsumer(t.Context(), jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	batch, err := c.Fetch(n, jetstream.FetchMaxWait(10*time.Second))
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	ids := map[string]bool{}
	for m := range batch.Messages() {
		id := m.Headers().Get(events.HeaderSubject)
		if ids[id] {
			t.Errorf("order %s published twice", id)
		}
		ids[id] = true
	}
	if len(ids) != n {
		t.Fatalf("read %d order ids from ORDERS, want %d", len(ids), n)
	}
	return ids
}
