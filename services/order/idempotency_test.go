package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/orderbus/orderbus/pkg/web"
)

func TestIdempotencyKeyReplaysFirstAnswer(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	customer := uuid.NewString()
	body := orderBody(t, customer, "SKU-1")
	key := "order-" + uuid.NewString()

	first := e.postOrder(t, body, key)
	second := e.postOrder(t, body, key)

	if first.status != http.StatusAccepted || second.status != http.StatusAccepted {
		t.Fatalf("statuses %d, %d; want 202 twice; bodies %s / %s", first.status, second.status, first.body, second.body)
	}
	if !bytes.Equal(withoutToken(t, first), withoutToken(t, second)) || first.header.Get("Location") != second.header.Get("Location") {
		t.Errorf("replay differs: %s %q vs %s %q", first.body, first.header.Get("Location"),
			second.body, second.header.Get("Location"))
	}
	if first.header.Get("Idempotent-Replayed") != "" || second.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("Idempotent-Replayed = %q then %q, want \"\" then true",
			first.header.Get("Idempotent-Replayed"), second.header.Get("Idempotent-Replayed"))
	}
	if n := e.count(t, "orders"); n != 1 {
		t.Errorf("orders holds %d rows, want 1", n)
	}

	other := e.postOrder(t, orderBody(t, customer, "SKU-2"), key)
	if other.status != http.StatusUnprocessableEntity || other.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("other body: status %d %s, want 422 problem", other.status, other.body)
	}
	var p web.Problem
	decodeJSON(t, other, &p)
	if p.Type != web.ProblemConflict {
		t.Errorf("problem type %q, want %q", p.Type, web.ProblemConflict)
	}
	if n := e.count(t, "orders"); n != 1 {
		t.Errorf("orders holds %d rows after a mismatched retry, want 1", n)
	}

	// Another key is another order.
	if r := e.postOrder(t, body, key+"-2"); r.status != http.StatusAccepted {
		t.Errorf("new key: status %d, want 202", r.status)
	}
	if n := e.count(t, "orders"); n != 2 {
		t.Errorf("orders holds %d rows, want 2", n)
	}
}

// withoutToken returns the JSON body of a 202 without its order token,
// which is minted for each answer; it fails the test when there is none.
func withoutToken(t *testing.T, r response) []byte {
	t.Helper()
	var obj map[string]any
	decodeJSON(t, r, &obj)
	if tok, _ := obj["token"].(string); tok == "" {
		t.Fatalf("answer %s has no token", r.body)
	}
	delete(obj, "token")
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestIdempotencyKeyIsScopedToTheCustomer: another customer's request
// with the same key and the same items is its own order, and neither
// replays nor reveals the first customer's.
func TestIdempotencyKeyIsScopedToTheCustomer(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	const key = "checkout-1" // a guessable key, as clients pick them
	var ada, bob createAnswer
	first := e.postOrder(t, orderBody(t, uuid.NewString(), "SKU-1"), key)
	decodeJSON(t, first, &ada)
	second := e.postOrder(t, orderBody(t, uuid.NewString(), "SKU-1"), key)
	decodeJSON(t, second, &bob)
	if first.status != http.StatusAccepted || second.status != http.StatusAccepted {
		t.Fatalf("statuses %d, %d; want 202 twice: %s / %s", first.status, second.status, first.body, second.body)
	}
	if ada.ID == bob.ID || second.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("the second customer got the first's order %s back (replayed %q)", ada.ID, second.header.Get("Idempotent-Replayed"))
	}
	if n := e.count(t, "orders"); n != 2 {
		t.Errorf("orders holds %d rows, want 2", n)
	}
	// Bob's order token does not read Ada's order.
	if r := e.do(t, http.MethodGet, "/v1/orders/"+ada.ID, as(bob.Token), nil); r.status != http.StatusNotFound {
		t.Errorf("bob reads ada's order: %d, want 404", r.status)
	}
}

func TestIdempotencyKeyConcurrentRequestsCreateOneOrder(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	body := orderBody(t, uuid.NewString(), "SKU-1", "SKU-2")
	const n = 8
	answers := make([]response, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			answers[i], errs[i] = e.send(http.MethodPost, "/v1/orders",
				map[string]string{"Content-Type": "application/json", "Idempotency-Key": "same-key"}, body)
		})
	}
	close(start)
	wg.Wait()

	var ids []string
	for i, a := range answers {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if a.status != http.StatusAccepted {
			t.Fatalf("status %d, want 202; body %s", a.status, a.body)
		}
		var got createAnswer
		decodeJSON(t, a, &got)
		ids = append(ids, got.ID)
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("answers name different orders: %v", ids)
		}
	}
	for table, want := range map[string]int{"orders": 1, "order_items": 2, "order_history": 1, "idempotency_keys": 1} {
		if got := e.count(t, table); got != want {
			t.Errorf("%s holds %d rows, want %d", table, got, want)
		}
	}
}
