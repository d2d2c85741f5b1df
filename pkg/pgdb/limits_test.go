package pgdb_test

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/pgdb"
)

func TestStatementTimeoutIsSet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		limits pgdb.Limits
		want   string
	}{
		{name: "default", limits: pgdb.Limits{}, want: "10s"},
		{name: "configured", limits: pgdb.Limits{StatementTimeout: 1500 * time.Millisecond}, want: "1500ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pool, err := pgdb.Open(t.Context(), cluster.NewDatabase(t), tt.limits)
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			var got string
			if err := pool.QueryRow(t.Context(), "SHOW statement_timeout").Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("statement_timeout = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestAcquireTimeout holds the only connection of a pool: another user of
// the pool must get an error, which counts as the database being
// unavailable, rather than wait for ever, and the pool must serve again
// once the connection is back.
func TestAcquireTimeout(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	u, err := url.Parse(cluster.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_max_conns", "1")
	u.RawQuery = q.Encode()
	pool, err := pgdb.Open(ctx, u.String(), pgdb.Limits{AcquireTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	held, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() {
		_, err := pool.Exec(context.Background(), "SELECT 1") // no deadline of its own
		done <- err
	}()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		held.Release()
		t.Fatal("Exec on an exhausted pool still waits after 30s: no acquire timeout")
	}
	if !errors.Is(err, context.DeadlineExceeded) || !pgdb.IsUnavailable(err) {
		t.Errorf("Exec on an exhausted pool: %v, want a deadline error that IsUnavailable", err)
	}

	held.Release()
	if _, err := pool.Exec(ctx, "SELECT 1"); err != nil {
		t.Errorf("Exec after the connection came back: %v", err)
	}
	if err := pgdb.Probe(pool)(ctx); err != nil {
		t.Errorf("Probe of a serving pool: %v", err)
	}
}

func TestProbeOfClosedPool(t *testing.T) {
	t.Parallel()
	pool, err := pgdb.Open(t.Context(), cluster.NewDatabase(t), pgdb.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	pool.Close()
	if err := pgdb.Probe(pool)(t.Context()); err == nil {
		t.Error("Probe of a closed pool passed")
	}
}
