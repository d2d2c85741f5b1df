package outbox_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/pgtest"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { pgtest.Main(m, &cluster) }

func TestEnqueue(t *testing.T) {
	t.Parallel()
	valid := newEvent(t, "c1")
	tests := []struct {
		name     string
		subject  string
		event    func(events.Event) events.Event
		commit   bool
		wantErr  bool
		wantRows int
	}{
		{name: "committed event waits in the outbox", subject: "orders.placed.c1", commit: true, wantRows: 1},
		{name: "rolled back event leaves nothing", subject: "orders.placed.c1", commit: false, wantRows: 0},
		{name: "missing subject", subject: "", commit: true, wantErr: true},
		{
			name: "missing id", subject: "orders.placed.c1", commit: true, wantErr: true,
			event: func(e events.Event) events.Event { e.ID = ""; return e },
		},
		{
			name: "missing type", subject: "orders.placed.c1", commit: true, wantErr: true,
			event: func(e events.Event) events.Event { e.Type = ""; return e },
		},
		{
			name: "missing source", subject: "orders.placed.c1", commit: true, wantErr: true,
			event: func(e events.Event) events.Event { e.Source = ""; return e },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pool := cluster.NewPool(t, outbox.Migrations())
			ev := valid
			if tt.event != nil {
				ev = tt.event(ev)
			}
			tx, err := pool.Begin(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(t.Context())
			err = outbox.Enqueue(t.Context(), tx, tt.subject, ev)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Enqueue error = %v, want error %v", err, tt.wantErr)
			}
			if tt.commit {
				if err := tx.Commit(t.Context()); err != nil && !tt.wantErr {
					t.Fatal(err)
				}
			} else if err := tx.Rollback(t.Context()); err != nil {
				t.Fatal(err)
			}
			if n := pending(t, pool); n != tt.wantRows {
				t.Errorf("outbox has %d rows, want %d", n, tt.wantRows)
			}
		})
	}
}

func TestEnqueueRejectsDuplicateID(t *testing.T) {
	t.Parallel()
	pool := cluster.NewPool(t, outbox.Migrations())
	ev := newEvent(t, "c1")
	enqueue(t, pool, ev)
	err := pgx.BeginFunc(t.Context(), pool, func(tx pgx.Tx) error {
		return outbox.Enqueue(t.Context(), tx, events.OrderPlacedSubject("c1"), ev)
	})
	if err == nil {
		t.Fatal("second Enqueue of the same event succeeded, want an error")
	}
	if n := pending(t, pool); n != 1 {
		t.Errorf("outbox has %d rows, want 1", n)
	}
}

// newEvent returns an order placed event for customer.
func newEvent(t *testing.T, customer string) events.Event {
	t.Helper()
	ev, err := events.New("orderbus/test", events.TypeOrderPlaced, "order-"+customer, events.OrderPlaced{
		OrderID:  "order-" + customer,
		Customer: events.Customer{ID: customer},
		Items:    []events.Item{{SKU: "sku-1", Quantity: 1}},
		PlacedAt: time.Now().UTC(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ev.TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	return ev
}

// subjectOf is the NATS subject the tests publish ev on: one per event.
func subjectOf(ev events.Event) string { return events.OrderPlacedSubject(ev.Subject) }

// enqueue stores events, each for subjectOf, in one committed transaction.
func enqueue(t *testing.T, pool *pgxpool.Pool, evs ...events.Event) {
	t.Helper()
	err := pgx.BeginFunc(t.Context(), pool, func(tx pgx.Tx) error {
		for _, ev := range evs {
			if err := outbox.Enqueue(t.Context(), tx, subjectOf(ev), ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// enqueueOn stores ev for subject in a committed transaction of its own.
func enqueueOn(t *testing.T, pool *pgxpool.Pool, subject string, ev events.Event) {
	t.Helper()
	err := pgx.BeginFunc(t.Context(), pool, func(tx pgx.Tx) error {
		return outbox.Enqueue(t.Context(), tx, subject, ev)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// newEvents returns n events, each for its own customer.
func newEvents(t *testing.T, n int) []events.Event {
	t.Helper()
	evs := make([]events.Event, n)
	for i := range evs {
		evs[i] = newEvent(t, fmt.Sprintf("c%d", i))
	}
	return evs
}

func pending(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM outbox`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
