package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natstest"
	"github.com/orderbus/orderbus/pkg/pgtest"
	"github.com/orderbus/orderbus/pkg/servicetest"
	"github.com/orderbus/orderbus/pkg/stack"
)

// testEnv is one running order service with its own database and
// nats-server, plus the test's own connections to both. Its methods take
// the *testing.T of the (sub)test calling them.
type testEnv struct {
	*servicetest.Service
	nats *stack.NATS
	db   *pgxpool.Pool
	js   jetstream.JetStream
}

// startEnv starts a nats-server, a database and the service, and waits
// until /readyz answers 200. env overrides variables (see startService).
func startEnv(t *testing.T, env map[string]string) *testEnv {
	t.Helper()
	srv := natstest.Start(t)
	// The streams order does not manage (INVENTORY, GDPR) are another
	// service's to create; the test creates them all, as admin.
	_, js := natstest.Connect(t, srv)
	e := startService(t, srv, env)
	e.js = js
	e.WaitReady(t)
	return e
}

// startService starts run in a goroutine against a fresh database and
// srv, which may be stopped, without waiting for anything; at cleanup it
// cancels run's context and checks that run returned nil. The returned
// service has its database pool but no JetStream handle yet.
func startService(t *testing.T, srv *stack.NATS, env map[string]string) *testEnv {
	t.Helper()
	dbURL := cluster.NewDatabase(t)
	vars := map[string]string{
		"DATABASE_URL":     dbURL,
		"LOG_LEVEL":        "info",
		"OUTBOX_INTERVAL":  "100ms",
		"SHUTDOWN_TIMEOUT": "5s",
		"CONSUMER_BACKOFF": "50ms,100ms,200ms",
	}
	// The service connects as its own NATS identity, so its tests prove
	// its permissions suffice.
	maps.Copy(vars, natstest.ServiceEnv(srv, serviceName))
	for k, v := range env {
		vars[k] = v
	}
	e := &testEnv{Service: servicetest.Start(t, run, vars), nats: srv}
	var err error
	e.db, err = pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatalf("open test pool: %v", err)
	}
	t.Cleanup(e.db.Close)
	return e
}

// response is an HTTP response read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request and reads the whole response, failing the test on error.
func (e *testEnv) do(t *testing.T, method, path string, header map[string]string, body []byte) response {
	t.Helper()
	r, err := e.send(method, path, header, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// send sends a request and reads the whole response; safe in any goroutine.
func (e *testEnv) send(method, path string, header map[string]string, body []byte) (response, error) {
	req, err := http.NewRequest(method, e.URL+path, bytes.NewReader(body))
	if err != nil {
		return response{}, fmt.Errorf("new request: %w", err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{Timeout: 20 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("read %s %s response: %w", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// postOrder posts body as JSON, with an Idempotency-Key when key is not "".
func (e *testEnv) postOrder(t *testing.T, body []byte, key string) response {
	t.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	if key != "" {
		h["Idempotency-Key"] = key
	}
	return e.do(t, http.MethodPost, "/v1/orders", h, body)
}

// count returns the number of rows in table.
func (e *testEnv) count(t *testing.T, table string) int {
	t.Helper()
	return pgtest.Count(t, e.db, table, "")
}

// streamMsgs returns the number of messages in the ORDERS stream.
func (e *testEnv) streamMsgs(t *testing.T) uint64 {
	t.Helper()
	return servicetest.StreamLen(t, e.js, events.StreamOrders)
}

// orderBody returns a valid order request for customerID with the given SKUs.
func orderBody(t *testing.T, customerID string, skus ...string) []byte {
	t.Helper()
	items := make([]map[string]any, len(skus))
	for i, sku := range skus {
		items[i] = map[string]any{"sku": sku, "quantity": i + 1}
	}
	b, err := json.Marshal(map[string]any{
		"customer": map[string]string{
			"id": customerID, "name": "Ada Lovelace", "email": "ada@example.com", "phone": "+441234567890",
		},
		"items": items,
	})
	if err != nil {
		t.Fatalf("marshal order: %v", err)
	}
	return b
}

// decodeJSON unmarshals r's body into v.
func decodeJSON(t *testing.T, r response, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
}

// placeOrder places an order for customerID with the given SKUs and
// returns its id.
func (e *testEnv) placeOrder(t *testing.T, customerID string, skus ...string) string {
	t.Helper()
	resp := e.postOrder(t, orderBody(t, customerID, skus...), "")
	if resp.status != http.StatusAccepted {
		t.Fatalf("place order: %d %s", resp.status, resp.body)
	}
	var a createAnswer
	decodeJSON(t, resp, &a)
	return a.ID
}

// asOperator returns the headers of a request by an operator with every
// role.
func asOperator(t *testing.T) map[string]string {
	t.Helper()
	return map[string]string{"Authorization": servicetest.Operator(t)}
}

// as returns the headers of a request with the Authorization
// "Bearer token".
func as(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

// getOrder returns GET /v1/orders/{id} read by an operator, which must
// answer 200.
func (e *testEnv) getOrder(t *testing.T, id string) orderAnswer {
	t.Helper()
	resp := e.do(t, http.MethodGet, "/v1/orders/"+id, asOperator(t), nil)
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

// settled waits until the order-inventory consumer has acknowledged (or
// terminated) every INVENTORY message up to seq and holds none, and the
// outbox is empty.
func (e *testEnv) settled(t *testing.T, seq uint64) {
	t.Helper()
	servicetest.WaitFor(t, 15*time.Second, "the order-inventory consumer to settle and the outbox to empty", func() (bool, string) {
		ok, seen := servicetest.Settled(e.js, events.StreamInventory, durableOrderInventory, seq)
		pending := e.count(t, "outbox")
		return ok && pending == 0, fmt.Sprintf("%s, outbox rows %d", seen, pending)
	})
}

// metric returns the value of the sample line starting with series.
func (e *testEnv) metric(t *testing.T, series string) int {
	t.Helper()
	body := string(e.do(t, "GET", "/metrics", nil, nil).body)
	for line := range strings.Lines(body) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), series+" "); ok {
			var n int
			if _, err := fmt.Sscan(v, &n); err != nil {
				t.Fatalf("metric %s = %q: %v", series, v, err)
			}
			return n
		}
	}
	t.Fatalf("/metrics lacks %s", series)
	return 0
}
