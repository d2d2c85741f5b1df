package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/auth"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natstest"
	"github.com/orderbus/orderbus/pkg/pgdb"
	"github.com/orderbus/orderbus/pkg/pgtest"
	"github.com/orderbus/orderbus/pkg/servicetest"
	"github.com/orderbus/orderbus/pkg/stack"
)

// testEnv is one running inventory service with its own nats-server and
// database, plus the test's own connections to both.
type testEnv struct {
	*servicetest.Service
	nats *stack.NATS
	js   jetstream.JetStream
	db   *pgxpool.Pool
}

// startEnv starts a nats-server, a database and the service, and waits
// for /readyz. env overrides variables (see startService).
func startEnv(t *testing.T, env map[string]string) *testEnv {
	t.Helper()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	e := startService(t, srv, env)
	e.js = js
	e.WaitReady(t)
	return e
}

// startService starts the service against srv and a fresh database (with
// fast retries) without waiting for it. env overrides variables. The
// service is stopped at cleanup, and run must then return nil.
func startService(t *testing.T, srv *stack.NATS, env map[string]string) *testEnv {
	t.Helper()
	dbURL := cluster.NewDatabase(t)
	vars := map[string]string{
		"DATABASE_URL":         dbURL,
		"LOG_LEVEL":            "debug",
		"LOG_FORMAT":           "text",
		"SHUTDOWN_TIMEOUT":     "10s",
		"OUTBOX_INTERVAL":      "100ms",
		"CONSUMER_CONCURRENCY": "4",
		"CONSUMER_BACKOFF":     "50ms,100ms,200ms",
	}
	// The service connects as its own NATS identity, so its tests prove
	// its permissions suffice.
	maps.Copy(vars, natstest.ServiceEnv(srv, serviceName))
	maps.Copy(vars, env)
	e := &testEnv{Service: servicetest.Start(t, run, vars), nats: srv}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	if e.db, err = pgdb.Open(ctx, dbURL, pgdb.Limits{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.db.Close)
	return e
}

// do sends a request as a stock:write operator (a JSON body unless body
// is "") and returns the status and body; status 0 and the error text
// when it cannot be sent. Safe in any goroutine.
func (e *testEnv) do(method, path, body string) (int, string) {
	return e.doAs(method, path, "Bearer "+stockWriter, body)
}

// stockWriter is a token with stock:write, signed with the AUTH_JWT_KEY
// servicetest.Start gives every test service.
var stockWriter = func() string {
	tok, err := auth.MustKeys(servicetest.AuthKey).Mint("ops-inventory-test", 24*time.Hour, auth.RoleStockWrite)
	if err != nil {
		panic(err)
	}
	return tok
}()

// doAs is do with the Authorization header authorization (none when "").
func (e *testEnv) doAs(method, path, authorization, body string) (int, string) {
	req, err := http.NewRequest(method, e.URL+path, strings.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Personal data of every test customer; none of it may reach the log.
const (
	customerName  = "Ada Lovelace"
	customerEmail = "ada.lovelace@example.com"
	customerPhone = "+442079460000"
)

// newOrderPlaced returns an order placed event for a new order and a new
// customer with the given items.
func newOrderPlaced(t *testing.T, items ...events.Item) (events.Event, events.OrderPlaced) {
	t.Helper()
	p := events.OrderPlaced{
		OrderID: uuid.NewString(),
		Customer: events.Customer{
			ID: uuid.NewString(), Name: customerName, Email: customerEmail, Phone: customerPhone,
		},
		Items:    items,
		PlacedAt: time.Now().UTC(),
	}
	ev, err := events.New("/orderbus/order", events.TypeOrderPlaced, p.OrderID, p)
	if err != nil {
		t.Fatal(err)
	}
	return ev, p
}

// newSKU returns a SKU no other test uses, starting with prefix.
func newSKU(prefix string) string {
	return prefix + "-" + strings.ToUpper(uuid.NewString()[:8])
}

// publish stores ev on the orders.placed subject of customerID and returns
// its stream sequence. Safe in any goroutine.
func (e *testEnv) publish(ev events.Event, customerID string) (uint64, error) {
	return servicetest.Publish(e.js, &nats.Msg{Subject: events.OrderPlacedSubject(customerID), Header: ev.Header(), Data: ev.Data})
}

// mustPublish is publish failing the test on error.
func (e *testEnv) mustPublish(t *testing.T, ev events.Event, customerID string) uint64 {
	t.Helper()
	seq, err := e.publish(ev, customerID)
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

// settled waits until the inventory consumer has acknowledged (or
// terminated) every message up to stream sequence seq of ORDERS, and the
// outbox is empty: every result is published.
func (e *testEnv) settled(t *testing.T, seq uint64) {
	t.Helper()
	servicetest.WaitFor(t, 20*time.Second, "the inventory consumer to settle", func() (bool, string) {
		info, err := servicetest.ConsumerInfo(e.js, events.StreamOrders, durableInventory)
		if err != nil {
			return false, err.Error()
		}
		outbox := e.count(t, "outbox")
		return info.AckFloor.Stream >= seq && outbox == 0,
			fmt.Sprintf("ack floor %d (want %d), outbox rows %d", info.AckFloor.Stream, seq, outbox)
	})
}

// count returns the number of rows in table.
func (e *testEnv) count(t *testing.T, table string) int {
	t.Helper()
	return pgtest.Count(t, e.db, table, "")
}

// setStock sets sku's level through the API.
func (e *testEnv) setStock(t *testing.T, sku string, available int) {
	t.Helper()
	code, body := e.do(http.MethodPut, "/v1/stock/"+sku, `{"available":`+strconv.Itoa(available)+`}`)
	if code != http.StatusOK {
		t.Fatalf("PUT /v1/stock/%s = %d %s", sku, code, body)
	}
}

// level returns sku's stock level in the database, or -1 when unknown.
func (e *testEnv) level(t *testing.T, sku string) int {
	t.Helper()
	n := -1
	err := e.db.QueryRow(context.Background(), `SELECT available FROM stock WHERE sku = $1`, sku).Scan(&n)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		t.Fatalf("stock of %s: %v", sku, err)
	}
	return n
}

// storedReservation is a reservations row with its lines.
type storedReservation struct {
	Status     string
	CustomerID string // "" when cleared by an erasure
	Missing    []string
	Lines      map[string]int
	CreatedAt  time.Time
}

// reservation returns the reservation of orderID, or nil.
func (e *testEnv) reservation(t *testing.T, orderID string) *storedReservation {
	t.Helper()
	r := storedReservation{Lines: map[string]int{}}
	err := e.db.QueryRow(context.Background(), `SELECT status, COALESCE(customer_id::text, ''), missing_skus, created_at
		FROM reservations WHERE order_id = $1`, orderID).Scan(&r.Status, &r.CustomerID, &r.Missing, &r.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		t.Fatalf("reservation of %s: %v", orderID, err)
	}
	rows, _ := e.db.Query(context.Background(), `SELECT sku, quantity FROM reservation_lines WHERE order_id = $1`, orderID)
	var (
		sku string
		q   int
	)
	if _, err := pgx.ForEachRow(rows, []any{&sku, &q}, func() error { r.Lines[sku] = q; return nil }); err != nil {
		t.Fatalf("reservation lines of %s: %v", orderID, err)
	}
	return &r
}

// results returns how many messages the INVENTORY stream holds on each of
// its subjects matching filter.
func (e *testEnv) results(t *testing.T, filter string) map[string]uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := e.js.Stream(ctx, events.StreamInventory)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Subjects == nil {
		return map[string]uint64{}
	}
	return info.State.Subjects
}

// lastResult returns the last INVENTORY message on subject.
func (e *testEnv) lastResult(t *testing.T, subject string) *jetstream.RawStreamMsg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := e.js.Stream(ctx, events.StreamInventory)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetLastMsgForSubject(ctx, subject)
	if err != nil {
		t.Fatalf("last message on %s: %v", subject, err)
	}
	return m
}

// dlq returns the messages the inventory consumer dead-lettered for a
// message on subject.
func (e *testEnv) dlq(t *testing.T, subject string) []*jetstream.RawStreamMsg {
	t.Helper()
	return servicetest.DeadLetters(t, e.js, durableInventory, subject)
}

// metric returns the value of the sample line starting with series, e.g.
// inventory_reservations_total{outcome="reserved"}, or -1 when absent.
func (e *testEnv) metric(t *testing.T, series string) float64 {
	t.Helper()
	if v, ok := e.Metric(t, series); ok {
		return v
	}
	return -1
}

// assertNoPersonalData fails the test when the service's log holds any
// test customer's personal data.
func (e *testEnv) assertNoPersonalData(t *testing.T) {
	t.Helper()
	logs := e.Logs()
	for _, personal := range []string{customerName, customerEmail, customerPhone, "Lovelace"} {
		if strings.Contains(logs, personal) {
			t.Errorf("service log contains personal data %q", personal)
		}
	}
}
