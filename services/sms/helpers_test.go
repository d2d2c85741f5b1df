package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

// newOrderPlaced returns an order placed event (3 items in all) for a new
// order and customer with a fresh phone number.
func newOrderPlaced(t *testing.T) (events.Event, events.OrderPlaced) {
	t.Helper()
	p := events.OrderPlaced{
		OrderID: uuid.NewString(),
		Customer: events.Customer{
			ID: uuid.NewString(), Name: "Ada Lovelace", Email: "ada@example.com",
			Phone: fmt.Sprintf("+447700%06d", rand.IntN(1_000_000)),
		},
		Items:    []events.Item{{SKU: "SKU-TEA", Quantity: 2}, {SKU: "SKU-CUP", Quantity: 1}},
		PlacedAt: time.Now().UTC(),
	}
	ev, err := events.New("/orderbus/order", events.TypeOrderPlaced, p.OrderID, p)
	if err != nil {
		t.Fatal(err)
	}
	return ev, p
}

// publish stores ev on the orders.placed subject of customerID.
func (e *testEnv) publish(t *testing.T, ev events.Event, customerID string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.pub.Publish(ctx, events.OrderPlacedSubject(customerID), ev); err != nil {
		t.Fatal(err)
	}
}

// rows returns the messages rows of eventID.
func (e *testEnv) rows(t *testing.T, eventID string) []Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rows, err := e.db.Query(ctx, `
		SELECT customer_id::text, to_number, body, provider, COALESCE(provider_id, ''), status,
		       COALESCE(error, ''), attempts, sent_at
		FROM messages WHERE event_id = $1`, eventID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		if err := rows.Scan(&m.CustomerID, &m.To, &m.Body, &m.Provider, &m.ProviderID, &m.Status,
			&m.Error, &m.Attempts, &m.SentAt); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// settled waits until the sms consumer has acknowledged (or terminated)
// every message up to stream sequence seq and holds none.
func (e *testEnv) settled(t *testing.T, seq uint64) {
	t.Helper()
	servicetest.WaitFor(t, 15*time.Second, "the sms consumer to settle", func() (bool, string) {
		return servicetest.Settled(e.js, events.StreamOrders, durableSMS, seq)
	})
}

// lastSeq returns the ORDERS stream's last sequence.
func (e *testEnv) lastSeq(t *testing.T) uint64 {
	t.Helper()
	return servicetest.LastSeq(t, e.js, events.StreamOrders)
}

// dlq returns the messages dead-lettered by the sms consumer for a
// message on subject.
func (e *testEnv) dlq(t *testing.T, subject string) []*jetstream.RawStreamMsg {
	t.Helper()
	return servicetest.DeadLetters(t, e.js, durableSMS, subject)
}

// metric returns the value of the sample line starting with series, e.g.
// sms_messages_total{outcome="retry",provider="webhook"}, or 0.
func (e *testEnv) metric(t *testing.T, series string) float64 {
	t.Helper()
	v, _ := e.Metric(t, series)
	return v
}

// series names sms_messages_total's sample for provider and outcome.
func series(provider, outcome string) string {
	return fmt.Sprintf(`sms_messages_total{outcome=%q,provider=%q}`, outcome, provider)
}

// webhookServer is an SMS webhook receiver: the one fake the tests use
// besides Twilio, since the webhook's other end is someone else's system.
// Call i (from 0) is answered with statuses[i], the last one repeating
// (200 when none), and a JSON body {"id": "hook-<i>"} or {"error": ...}
// quoting the number, as gateways do.
type webhookServer struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	calls    []webhookCall
}

// webhookCall is one request the receiver got.
type webhookCall struct {
	Method string
	Path   string
	Header http.Header
	Body   map[string]any
	Raw    string
}

func startWebhook(t *testing.T, statuses ...int) *webhookServer {
	t.Helper()
	w := &webhookServer{statuses: statuses}
	w.Server = httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(w.Close)
	return w
}

func (w *webhookServer) serve(rw http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	call := webhookCall{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Raw: string(raw)}
	_ = json.Unmarshal(raw, &call.Body)
	w.mu.Lock()
	n := len(w.calls)
	w.calls = append(w.calls, call)
	status := http.StatusOK
	if len(w.statuses) > 0 {
		status = w.statuses[min(n, len(w.statuses)-1)]
	}
	w.mu.Unlock()

	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	if status >= 200 && status <= 299 {
		fmt.Fprintf(rw, `{"id": "hook-%d"}`, n)
		return
	}
	to, _ := call.Body["to"].(string)
	fmt.Fprintf(rw, `{"error": "cannot deliver to %s"}`, to)
}

// requests returns a copy of the calls so far.
func (w *webhookServer) requests() []webhookCall {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]webhookCall(nil), w.calls...)
}
