package erasure_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderbus/orderbus/pkg/erasure"
)

// TestCheckWaitsForAnErasureInFlight: an effect's Check that arrives
// while an erasure of its customer holds the lock waits for it and then
// sees the tombstone the erasure committed (so the effect is suppressed,
// never written after the erasure), records the suppression once however
// often it is checked, and counts it; a check at the cut-off itself is
// suppressed too.
func TestCheckWaitsForAnErasureInFlight(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := cluster.NewPool(t, erasure.Migrations())
	reg := prometheus.NewRegistry()
	guard, err := erasure.NewGuard(pool, reg)
	if err != nil {
		t.Fatal(err)
	}
	customer := uuid.NewString()
	cutoff := time.Now().UTC().Truncate(time.Microsecond)

	// The erasure: the customer's lock taken exclusive, the tombstone
	// written, not yet committed.
	eraser, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = eraser.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := eraser.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('orderbus-erasure:' || $1::text, 0))`, customer); err != nil {
		t.Fatal(err)
	}
	if _, err := eraser.Exec(ctx, `INSERT INTO erasure_tombstones (customer_id, erased_before, erasure_id) VALUES ($1, $2, $3)`,
		customer, cutoff, uuid.NewString()); err != nil {
		t.Fatal(err)
	}

	check := func(eventID string, placedAt time.Time) (bool, error) {
		var suppressed bool
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			var err error
			suppressed, err = guard.Check(ctx, tx, "notes", eventID, customer, placedAt)
			return err
		})
		return suppressed, err
	}
	type result struct {
		suppressed bool
		err        error
	}
	waiting := make(chan result, 1)
	go func() {
		s, err := check("in flight", cutoff.Add(-time.Second))
		waiting <- result{s, err}
	}()
	// Commit the erasure only once the check waits for its lock.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the check never waited for the erasure's lock")
		}
		select {
		case r := <-waiting:
			t.Fatalf("the check returned (%v, %v) while the erasure held the lock", r.suppressed, r.err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := eraser.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if r := <-waiting; r.err != nil || !r.suppressed {
		t.Fatalf("Check after the erasure committed = %v, %v; want suppressed", r.suppressed, r.err)
	}

	for _, tc := range []struct {
		eventID  string
		placedAt time.Time
		want     bool
	}{
		{"in flight", cutoff.Add(-time.Second), true}, // a redelivery
		{"at the cut-off", cutoff, true},
		{"after", cutoff.Add(time.Microsecond), false},
	} {
		if got, err := check(tc.eventID, tc.placedAt); err != nil || got != tc.want {
			t.Errorf("Check(%s) = %v, %v; want %v", tc.eventID, got, err, tc.want)
		}
	}
	var recorded []string
	rows, err := pool.Query(ctx, `SELECT event_id FROM erasure_suppressed WHERE customer_id = $1 ORDER BY event_id`, customer)
	if err != nil {
		t.Fatal(err)
	}
	if recorded, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	if len(recorded) != 2 || recorded[0] != "at the cut-off" || recorded[1] != "in flight" {
		t.Errorf("suppressions recorded = %q; want [at the cut-off, in flight]", recorded)
	}
	if got := suppressedCount(t, reg, "notes"); got != 3 {
		t.Errorf("suppressions counted = %v; want 3 (every check that suppressed)", got)
	}
}

// suppressedCount returns orderbus_erasure_suppressed_total of consumer
// gathered from reg.
func suppressedCount(t *testing.T, reg *prometheus.Registry, consumer string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "orderbus_erasure_suppressed_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "consumer" && l.GetValue() == consumer {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
