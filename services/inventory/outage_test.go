package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

const (
	seriesPausedPostgres = `orderbus_consumer_paused{dependency="postgres",durable="inventory"}`
	seriesPausesPostgres = `orderbus_consumer_pauses_total{dependency="postgres",durable="inventory"}`
	seriesTimeouts       = `orderbus_consumer_handler_timeouts_total{durable="inventory"}`
)

// oldBudget is how long the retry budget of before (10 deliveries) lasted
// with the test's backoff of 50ms, 100ms, 200ms (the last repeating).
const oldBudget = 50*time.Millisecond + 100*time.Millisecond + 8*200*time.Millisecond

// TestDatabaseOutageLongerThanTheOldBudget makes the service's own
// database refuse connections, and ends its sessions, for longer than the
// old retry budget while orders come in. The consumer pauses on
// "postgres" and the service stays alive; once the database is back every
// order is reserved once and announced once, and nothing is dead-lettered.
func TestDatabaseOutageLongerThanTheOldBudget(t *testing.T) {
	t.Parallel()
	e := startEnv(t, map[string]string{"CONSUMER_PROBE_INTERVAL": "100ms", "DB_ACQUIRE_TIMEOUT": "1s"})
	ctx := t.Context()
	sku := newSKU("OUTAGE")
	e.setStock(t, sku, 100)
	db := e.db.Config().ConnConfig.Database
	admin := cluster.NewPool(t) // a superuser on another database of the server

	allowConnections(t, admin, db, false)
	t.Cleanup(func() { allowConnections(t, admin, db, true) })
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = $1 AND pid <> pg_backend_pid()`, db); err != nil {
		t.Fatal(err)
	}

	var orders []events.OrderPlaced
	for range 5 {
		ev, p := newOrderPlaced(t, events.Item{SKU: sku, Quantity: 2})
		e.mustPublish(t, ev, p.Customer.ID)
		orders = append(orders, p)
	}
	servicetest.WaitFor(t, 30*time.Second, "the inventory consumer to pause on postgres", func() (bool, string) {
		paused := e.metric(t, seriesPausedPostgres)
		return paused == 1, fmt.Sprintf("paused %v", paused)
	})
	// Keep the database away for three times the old budget: then every
	// message would have been dead-lettered.
	outage := time.NewTimer(3 * oldBudget)
	for waiting := true; waiting; {
		select {
		case <-outage.C:
			waiting = false
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(100 * time.Millisecond):
			if code, body := e.do(http.MethodGet, "/healthz", ""); code != http.StatusOK {
				t.Fatalf("/healthz during the outage = %d %s", code, body)
			}
		}
	}
	// Its own database unreachable, the service is not ready, and says why.
	if code, body := e.do(http.MethodGet, "/readyz", ""); code != http.StatusServiceUnavailable || !strings.Contains(body, "postgres") {
		t.Errorf("/readyz during the outage = %d %s, want 503 naming postgres", code, body)
	}
	if n := servicetest.StreamLen(t, e.js, events.StreamDLQ); n != 0 {
		t.Fatalf("%d messages dead-lettered during the outage", n)
	}

	allowConnections(t, admin, db, true)
	servicetest.WaitFor(t, 30*time.Second, "every order reserved after the database came back", func() (bool, string) {
		var n int
		err := e.db.QueryRow(context.Background(), `SELECT count(*) FROM reservations`).Scan(&n)
		return err == nil && n == len(orders), fmt.Sprintf("%d of %d reservations (%v)", n, len(orders), err)
	})
	e.settled(t, servicetest.LastSeq(t, e.js, events.StreamOrders))

	for _, p := range orders {
		r := e.reservation(t, p.OrderID)
		if r == nil || r.Status != statusReserved || r.Lines[sku] != 2 {
			t.Errorf("order %s: reservation %+v, want reserved with 2 of %s", p.OrderID, r, sku)
		}
		subject := events.InventoryReservedSubject(p.Customer.ID)
		if got := e.results(t, subject)[subject]; got != 1 {
			t.Errorf("order %s: %d results on %s, want 1", p.OrderID, got, subject)
		}
	}
	if got := e.level(t, sku); got != 100-2*len(orders) {
		t.Errorf("stock of %s = %d, want %d", sku, got, 100-2*len(orders))
	}
	if n := servicetest.StreamLen(t, e.js, events.StreamDLQ); n != 0 {
		t.Errorf("the DLQ stream holds %d messages, want none", n)
	}
	if n := e.metric(t, seriesPausesPostgres); n < 1 {
		t.Errorf("pauses on postgres = %v, want at least 1", n)
	}
	if n := e.metric(t, seriesPausedPostgres); n != 0 {
		t.Errorf("paused gauge = %v after the recovery, want 0", n)
	}
}

// TestHandlerBlockedByRowLockRetried holds a lock on the stock row an
// order needs: the handler runs into its deadline, is retried, and
// reserves the order once, announced once, after the lock is released.
func TestHandlerBlockedByRowLockRetried(t *testing.T) {
	t.Parallel()
	e := startEnv(t, map[string]string{"CONSUMER_HANDLER_TIMEOUT": "500ms", "CONSUMER_PROBE_INTERVAL": "100ms"})
	ctx := t.Context()
	sku := newSKU("LOCKED")
	e.setStock(t, sku, 10)

	tx, err := e.db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }() // a no-op after the rollback below
	if _, err := tx.Exec(ctx, `SELECT available FROM stock WHERE sku = $1 FOR UPDATE`, sku); err != nil {
		t.Fatal(err)
	}

	ev, p := newOrderPlaced(t, events.Item{SKU: sku, Quantity: 3})
	seq := e.mustPublish(t, ev, p.Customer.ID)
	servicetest.WaitFor(t, 30*time.Second, "handler calls timing out on the lock", func() (bool, string) {
		n := e.metric(t, seriesTimeouts)
		return n >= 2, fmt.Sprintf("%v timeouts", n)
	})
	if r := e.reservation(t, p.OrderID); r != nil {
		t.Fatalf("reservation %+v while the row was locked", r)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	e.settled(t, seq)
	r := e.reservation(t, p.OrderID)
	if r == nil || r.Status != statusReserved || r.Lines[sku] != 3 {
		t.Fatalf("reservation %+v, want reserved with 3 of %s", r, sku)
	}
	if got := e.level(t, sku); got != 7 {
		t.Errorf("stock of %s = %d, want 7: reserved once", sku, got)
	}
	subject := events.InventoryReservedSubject(p.Customer.ID)
	if got := e.results(t, subject)[subject]; got != 1 {
		t.Errorf("%d results on %s, want 1", got, subject)
	}
	if n := len(e.dlq(t, events.OrderPlacedSubject(p.Customer.ID))); n != 0 {
		t.Errorf("%d DLQ messages, want none", n)
	}
}

// allowConnections sets ALLOW_CONNECTIONS of database db through admin.
func allowConnections(t *testing.T, admin *pgxpool.Pool, db string, allow bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stmt := fmt.Sprintf("ALTER DATABASE %s WITH ALLOW_CONNECTIONS %t", pgx.Identifier{db}.Sanitize(), allow)
	if _, err := admin.Exec(ctx, stmt); err != nil {
		t.Errorf("%s: %v", stmt, err)
	}
}
