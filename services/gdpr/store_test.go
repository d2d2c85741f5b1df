package main

import (
	"context"
	"errors"
	"maps"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
)

// newTestStore returns a Store on a fresh, migrated database.
func newTestStore(t *testing.T) *Store {
	t.Helper()
	sets, err := migrationSets()
	if err != nil {
		t.Fatal(err)
	}
	return &Store{pool: cluster.NewPool(t, sets...)}
}

// mustRequest stores a new erasure of a new customer, asking participants.
func mustRequest(t *testing.T, s *Store, participants ...string) erasure {
	t.Helper()
	n, err := newErasureFor(uuid.New(), participants)
	if err != nil {
		t.Fatal(err)
	}
	e, created, err := requestErasure(context.Background(), s, n)
	if err != nil || !created {
		t.Fatalf("requestErasure = %v, %v; want a new erasure", created, err)
	}
	return e
}

// mustAnswer records service's answer to e with a fresh message id.
func mustAnswer(t *testing.T, s *Store, e erasure, service string, at time.Time, erased map[string]int64) string {
	t.Helper()
	outcome, err := recordAnswer(context.Background(), s, answer{
		Consumer: durableCompletions, MessageID: uuid.NewString(), ErasureID: e.ID, CustomerID: e.CustomerID,
		Service: service, Erased: erased, AnsweredAt: at.UTC().Truncate(time.Microsecond),
	})
	if err != nil {
		t.Fatalf("recordAnswer %s: %v", service, err)
	}
	return outcome
}

func TestRequestErasureConcurrently(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	customer := uuid.New()
	const n = 8
	var (
		wg      sync.WaitGroup
		created atomic.Int32
		ids     sync.Map
	)
	for range n {
		wg.Go(func() {
			ne, err := newErasureFor(customer, []string{"order", "sms"})
			if err != nil {
				t.Error(err)
				return
			}
			e, isNew, err := requestErasure(context.Background(), s, ne)
			if err != nil {
				t.Error(err)
				return
			}
			if isNew {
				created.Add(1)
			}
			ids.Store(e.ID, true)
		})
	}
	wg.Wait()
	distinct := 0
	ids.Range(func(any, any) bool { distinct++; return true })
	if created.Load() != 1 || distinct != 1 {
		t.Errorf("%d created, %d distinct erasures returned; want 1 and 1", created.Load(), distinct)
	}
	var outbox int
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox`).Scan(&outbox); err != nil || outbox != 1 {
		t.Errorf("outbox holds %d events (%v), want 1", outbox, err)
	}
}

func TestRecordAnswer(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	e := mustRequest(t, s, "order", "sms")
	t0 := time.Now().UTC().Truncate(time.Microsecond)
	base := answer{Consumer: durableCompletions, ErasureID: e.ID, CustomerID: e.CustomerID, Service: "order",
		Erased: map[string]int64{"orders": 2}, AnsweredAt: t0}

	first := base
	first.MessageID = uuid.NewString()
	tests := []struct {
		name        string
		a           answer
		wantOutcome string
		wantErr     error
		wantErased  map[string]int64 // order's counts afterwards
	}{
		{name: "first answer", a: first, wantOutcome: answerRecorded, wantErased: map[string]int64{"orders": 2}},
		{name: "same message again", a: func() answer { a := first; a.Erased = map[string]int64{"orders": 9}; return a }(),
			wantOutcome: answerDuplicate, wantErased: map[string]int64{"orders": 2}},
		{name: "later re-erasure replaces", a: func() answer {
			a := base
			a.MessageID, a.AnsweredAt, a.Erased = uuid.NewString(), t0.Add(time.Minute), map[string]int64{"orders": 1}
			return a
		}(), wantOutcome: answerRecorded, wantErased: map[string]int64{"orders": 1}},
		{name: "older answer is only audited", a: func() answer {
			a := base
			a.MessageID, a.AnsweredAt, a.Erased = uuid.NewString(), t0.Add(-time.Minute), map[string]int64{"orders": 7}
			return a
		}(), wantOutcome: answerRecorded, wantErased: map[string]int64{"orders": 1}},
		{name: "not a participant", a: func() answer {
			a := base
			a.MessageID, a.Service = uuid.NewString(), "billing"
			return a
		}(), wantOutcome: answerIgnored, wantErased: map[string]int64{"orders": 1}},
		{name: "unknown erasure", a: func() answer { a := base; a.MessageID, a.ErasureID = uuid.NewString(), uuid.New(); return a }(),
			wantErr: errErasureNotFound, wantErased: map[string]int64{"orders": 1}},
		{name: "other customer", a: func() answer { a := base; a.MessageID, a.CustomerID = uuid.NewString(), uuid.New(); return a }(),
			wantErr: errCustomerMismatch, wantErased: map[string]int64{"orders": 1}},
	}
	// Sequential: each case builds on the state the previous left.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outcome, err := recordAnswer(ctx, s, tt.a)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("recordAnswer error = %v, want %v", err, tt.wantErr)
				}
			} else if err != nil || outcome != tt.wantOutcome {
				t.Fatalf("recordAnswer = %q, %v; want %q", outcome, err, tt.wantOutcome)
			}
			got, err := s.Erasure(ctx, e.ID)
			if err != nil {
				t.Fatal(err)
			}
			if p := got.Participants[0]; p.State != stateAnswered || !maps.Equal(p.Erased, tt.wantErased) {
				t.Errorf("order participant = %+v, want answered with %v", p, tt.wantErased)
			}
			if p := got.Participants[1]; p.State != statusPending {
				t.Errorf("sms participant = %+v, want pending", p)
			}
		})
	}
	var audited, inbox int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM erasure_audit WHERE action = 'answered'`).Scan(&audited); err != nil {
		t.Fatal(err)
	}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM inbox`).Scan(&inbox); err != nil {
		t.Fatal(err)
	}
	if audited != 3 || inbox != 3 {
		t.Errorf("%d answers audited, %d inbox rows; want 3 and 3 (first, re-erasure, older)", audited, inbox)
	}
}
