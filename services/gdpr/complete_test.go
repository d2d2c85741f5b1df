package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderbus/orderbus/pkg/servicetest"
)

// newTestCompleter returns a completer on s purging with purge, and no
// relay (the verify events stay in the outbox).
func newTestCompleter(t *testing.T, s *Store, purge func(context.Context, string) error) *completer {
	t.Helper()
	m, err := newMetrics(prometheus.NewRegistry(), s)
	if err != nil {
		t.Fatal(err)
	}
	return &completer{store: s, logger: slog.New(slog.DiscardHandler), metrics: m,
		purge: func(ctx context.Context, customerID string, _ time.Time) (purgeResult, error) {
			if purge == nil {
				return purgeResult{}, nil
			}
			if err := purge(ctx, customerID); err != nil {
				return purgeResult{}, err
			}
			return purgeResult{Bounds: map[string]uint64{"ORDERS": 7}, Removed: map[string]int64{"ORDERS": 2}}, nil
		}}
}

// waitLockWaiters waits until want sessions of s's database wait on a lock.
func waitLockWaiters(t *testing.T, s *Store, want int) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	servicetest.WaitFor(t, 10*time.Second, fmt.Sprintf("%d completions waiting on the lock", want), func() (bool, string) {
		var n int
		err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
		return err == nil && n >= want, fmt.Sprintf("%d waiting (%v)", n, err)
	})
}

func TestComplete(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	e := mustRequest(t, s, "order", "sms")
	var purged atomic.Int32
	purging := make(chan struct{}, 1)
	release := make(chan struct{})
	var releaseOnce sync.Once
	releasePurges := func() { releaseOnce.Do(func() { close(release) }) }
	defer releasePurges()
	// purge holds the erasure's row lock until the test releases it.
	c := newTestCompleter(t, s, func(ctx context.Context, customerID string) error {
		if customerID != e.CustomerID.String() {
			t.Errorf("purge of customer %s, want %s", customerID, e.CustomerID)
		}
		purged.Add(1)
		select {
		case purging <- struct{}{}:
		default:
		}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	failing := newTestCompleter(t, s, func(context.Context, string) error { return errors.New("stream unavailable") })

	mustAnswer(t, s, e, "order", time.Now(), map[string]int64{"orders": 1})
	if done, err := c.complete(ctx, e.ID); done || err != nil || purged.Load() != 0 {
		t.Fatalf("Complete with sms pending = %v, %v (purges %d); want nothing done", done, err, purged.Load())
	}
	mustAnswer(t, s, e, "sms", time.Now(), map[string]int64{"messages": 1})

	if done, err := failing.complete(ctx, e.ID); done || err == nil {
		t.Fatalf("Complete with a failing purge = %v, %v; want the error", done, err)
	}
	if got, _ := s.Erasure(ctx, e.ID); got.Status != statusPending || got.CompletedAt != nil {
		t.Fatalf("after a failed purge the erasure is %s", got.Status)
	}
	if ids, err := s.Answered(ctx, 10); err != nil || len(ids) != 1 || ids[0] != e.ID {
		t.Errorf("Answered = %v, %v; want the erasure due again", ids, err)
	}

	// Many completers at once: one purges and asks for the verification.
	const n = 8
	var (
		wg        sync.WaitGroup
		completed atomic.Int32
	)
	for range n {
		wg.Go(func() {
			done, err := c.complete(ctx, e.ID)
			if err != nil {
				t.Error(err)
			}
			if done {
				completed.Add(1)
			}
		})
	}
	// While one purges, the others queue on the lock: every connection of
	// the pool but the purging one.
	select {
	case <-purging:
	case <-time.After(10 * time.Second):
		t.Fatal("no completion purged")
	}
	waitLockWaiters(t, s, min(n, int(s.pool.Config().MaxConns))-1)
	releasePurges()
	wg.Wait()
	if completed.Load() != 0 || purged.Load() != 1 {
		t.Errorf("%d completions, %d purges; want 0 (verification pending) and 1", completed.Load(), purged.Load())
	}
	got, err := s.Erasure(ctx, e.ID)
	if err != nil || got.Status != statusPending || got.PurgedAt == nil || got.Purge == nil || got.Purge.Bounds["ORDERS"] != 7 {
		t.Fatalf("erasure = %+v, %v; want pending, purged with its bounds", got, err)
	}
	var verifies int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE subject = 'gdpr.erasure.verify'`).Scan(&verifies); err != nil || verifies != 1 {
		t.Errorf("%d verify events in the outbox (%v), want 1", verifies, err)
	}
	if got := mustVerify(t, s, e, "order"); got != verificationRecorded {
		t.Errorf("verification of order: %s", got)
	}
	if done, err := c.complete(ctx, e.ID); done || err != nil {
		t.Fatalf("Complete with sms unverified = %v, %v; want nothing done", done, err)
	}
	if got := mustVerify(t, s, e, "sms"); got != verificationRecorded {
		t.Errorf("verification of sms: %s", got)
	}
	if done, err := c.complete(ctx, e.ID); !done || err != nil {
		t.Fatalf("Complete once all verified = %v, %v; want completed", done, err)
	}
	if purged.Load() != 1 {
		t.Errorf("%d purges, want 1", purged.Load())
	}
	got, err = s.Erasure(ctx, e.ID)
	if err != nil || got.Status != statusCompleted || got.CompletedAt == nil {
		t.Errorf("erasure = %+v, %v; want completed", got, err)
	}
	if ids, err := s.Answered(ctx, 10); err != nil || len(ids) != 0 {
		t.Errorf("Answered = %v, %v; want none due", ids, err)
	}
	var audited int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM erasure_audit WHERE action = 'completed'`).Scan(&audited); err != nil || audited != 1 {
		t.Errorf("%d completions audited (%v), want 1", audited, err)
	}
	if done, err := c.complete(ctx, uuid.New()); done || err != nil {
		t.Errorf("Complete of an unknown erasure = %v, %v; want nothing done", done, err)
	}
}
