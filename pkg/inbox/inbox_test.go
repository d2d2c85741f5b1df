package inbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderbus/orderbus/pkg/inbox"
	"github.com/orderbus/orderbus/pkg/pgtest"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { pgtest.Main(m, &cluster) }

// step records one message in its own transaction.
type step struct {
	consumer, messageID string
	commit              bool
	want                bool
}

func TestRecord(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		steps    []step
		wantRows int
	}{
		{
			name: "first delivery is new, redelivery is not",
			steps: []step{
				{consumer: "email", messageID: "m1", commit: true, want: true},
				{consumer: "email", messageID: "m1", commit: true, want: false},
			},
			wantRows: 1,
		},
		{
			name: "rolled back record is forgotten",
			steps: []step{
				{consumer: "email", messageID: "m1", commit: false, want: true},
				{consumer: "email", messageID: "m1", commit: true, want: true},
				{consumer: "email", messageID: "m1", commit: true, want: false},
			},
			wantRows: 1,
		},
		{
			name: "consumers are independent",
			steps: []step{
				{consumer: "email", messageID: "m1", commit: true, want: true},
				{consumer: "sms", messageID: "m1", commit: true, want: true},
				{consumer: "sms", messageID: "m1", commit: true, want: false},
				{consumer: "email", messageID: "m2", commit: true, want: true},
			},
			wantRows: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pool := cluster.NewPool(t, inbox.Migrations())
			for i, s := range tt.steps {
				got := record(t, pool, s)
				if got != s.want {
					t.Errorf("step %d: Record(%q, %q) = %v, want %v", i, s.consumer, s.messageID, got, s.want)
				}
			}
			if n := countRows(t, pool); n != tt.wantRows {
				t.Errorf("inbox has %d rows, want %d", n, tt.wantRows)
			}
		})
	}
}

func TestRecordRejectsEmptyIDs(t *testing.T) {
	t.Parallel()
	pool := cluster.NewPool(t, inbox.Migrations())
	tests := []struct{ name, consumer, messageID string }{
		{name: "empty consumer", consumer: "", messageID: "m1"},
		{name: "empty message id", consumer: "email", messageID: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				_, err := inbox.Record(ctx, tx, tt.consumer, tt.messageID)
				return err
			})
			if err == nil {
				t.Fatal("Record succeeded, want an error")
			}
		})
	}
	if n := countRows(t, pool); n != 0 {
		t.Errorf("inbox has %d rows, want 0", n)
	}
}

// TestRecordConcurrentDelivery checks that a message handled by two
// transactions at once (a redelivery while the first attempt is still
// running) has its effect committed once: the second waits and sees it.
func TestRecordConcurrentDelivery(t *testing.T) {
	t.Parallel()
	pool := cluster.NewPool(t, inbox.Migrations())
	ctx := t.Context()

	first, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback(context.WithoutCancel(ctx))
	if ok, err := inbox.Record(ctx, first, "email", "m1"); err != nil || !ok {
		t.Fatalf("first Record = %v, %v; want true, nil", ok, err)
	}

	type result struct {
		ok  bool
		err error
	}
	second := make(chan result, 1)
	go func() {
		var ok bool
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			var err error
			ok, err = inbox.Record(ctx, tx, "email", "m1")
			return err
		})
		second <- result{ok, err}
	}()

	// The second transaction must block on the first one's row lock.
	waitBlocked(t, pool)
	if err := first.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-second:
		if r.err != nil || r.ok {
			t.Errorf("second Record = %v, %v; want false, nil", r.ok, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second Record did not return after the first committed")
	}
}

func record(t *testing.T, pool *pgxpool.Pool, s step) bool {
	t.Helper()
	ctx := t.Context()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	ok, err := inbox.Record(ctx, tx, s.consumer, s.messageID)
	if err != nil {
		t.Fatalf("Record(%q, %q): %v", s.consumer, s.messageID, err)
	}
	if s.commit {
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return ok
}

func countRows(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM inbox`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitBlocked waits until a session of this database waits on a lock.
func waitBlocked(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		err := pool.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("second transaction never waited on the first one's lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
