package main

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natstest"
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
	e, created, err := s.RequestErasure(context.Background(), n)
	if err != nil || !created {
		t.Fatalf("RequestErasure = %v, %v; want a new erasure", created, err)
	}
	return e
}

// mustAnswer records service's answer to e with a fresh message id.
func mustAnswer(t *testing.T, s *Store, e erasure, service string, at time.Time, erased map[string]int64) string {
	t.Helper()
	outcome, err := s.RecordAnswer(context.Background(), answer{
		Consumer: durableCompletions, MessageID: uuid.NewString(), ErasureID: e.ID, CustomerID: e.CustomerID,
		Service: service, Erased: erased, AnsweredAt: at.UTC().Truncate(time.Microsecond),
	})
	if err != nil {
		t.Fatalf("RecordAnswer %s: %v", service, err)
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
			e, isNew, err := s.RequestErasure(context.Background(), ne)
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
			outcome, err := s.RecordAnswer(ctx, tt.a)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("RecordAnswer error = %v, want %v", err, tt.wantErr)
				}
			} else if err != nil || outcome != tt.wantOutcome {
				t.Fatalf("RecordAnswer = %q, %v; want %q", outcome, err, tt.wantOutcome)
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

func TestComplete(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	e := mustRequest(t, s, "order", "sms")
	var purged atomic.Int32
	purge := func(_ context.Context, customerID string) error {
		if customerID != e.CustomerID.String() {
			t.Errorf("purge of customer %s, want %s", customerID, e.CustomerID)
		}
		purged.Add(1)
		time.Sleep(20 * time.Millisecond) // let the others queue on the lock
		return nil
	}
	failing := func(context.Context, string) error { return errors.New("stream unavailable") }

	mustAnswer(t, s, e, "order", time.Now(), map[string]int64{"orders": 1})
	if done, err := s.Complete(ctx, e.ID, purge); done || err != nil || purged.Load() != 0 {
		t.Fatalf("Complete with sms pending = %v, %v (purges %d); want nothing done", done, err, purged.Load())
	}
	mustAnswer(t, s, e, "sms", time.Now(), map[string]int64{"messages": 1})

	if done, err := s.Complete(ctx, e.ID, failing); done || err == nil {
		t.Fatalf("Complete with a failing purge = %v, %v; want the error", done, err)
	}
	if got, _ := s.Erasure(ctx, e.ID); got.Status != statusPending || got.CompletedAt != nil {
		t.Fatalf("after a failed purge the erasure is %s", got.Status)
	}
	if ids, err := s.Answered(ctx, 10); err != nil || len(ids) != 1 || ids[0] != e.ID {
		t.Errorf("Answered = %v, %v; want the erasure due again", ids, err)
	}

	// Many completers at once: one purges and completes.
	const n = 8
	var (
		wg        sync.WaitGroup
		completed atomic.Int32
	)
	for range n {
		wg.Go(func() {
			done, err := s.Complete(ctx, e.ID, purge)
			if err != nil {
				t.Error(err)
			}
			if done {
				completed.Add(1)
			}
		})
	}
	wg.Wait()
	if completed.Load() != 1 || purged.Load() != 1 {
		t.Errorf("%d completions, %d purges; want 1 and 1", completed.Load(), purged.Load())
	}
	got, err := s.Erasure(ctx, e.ID)
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
	if done, err := s.Complete(ctx, uuid.New(), purge); done || err != nil {
		t.Errorf("Complete of an unknown erasure = %v, %v; want nothing done", done, err)
	}
}

// TestSweepCompletesAnsweredErasures: an erasure every participant has
// answered but that is still pending (its last answer ran out of
// deliveries, say) is completed by the sweep, purge included.
func TestSweepCompletesAnsweredErasures(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	_, js := natstest.Connect(t, natstest.Start(t))
	answered := mustRequest(t, s, "order")
	mustAnswer(t, s, answered, "order", time.Now(), map[string]int64{"orders": 1})
	waiting := mustRequest(t, s, "order", "sms")
	mustAnswer(t, s, waiting, "order", time.Now(), map[string]int64{"orders": 1})
	for _, c := range []uuid.UUID{answered.CustomerID, waiting.CustomerID} {
		ev, err := events.New("/test", events.TypeOrderPlaced, "o", map[string]string{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.PublishMsg(context.Background(), &nats.Msg{Subject: events.OrderPlacedSubject(c.String()), Header: ev.Header(), Data: ev.Data}); err != nil {
			t.Fatal(err)
		}
	}
	m, err := newMetrics(prometheus.NewRegistry(), s)
	if err != nil {
		t.Fatal(err)
	}
	c := &completer{store: s, purger: &purger{js: js}, logger: slog.New(slog.DiscardHandler), metrics: m}
	n, err := c.sweep(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("sweep = %d, %v; want 1 completed", n, err)
	}
	for _, tc := range []struct {
		e          erasure
		wantStatus string
		wantMsgs   uint64
	}{{answered, statusCompleted, 0}, {waiting, statusPending, 1}} {
		got, err := s.Erasure(context.Background(), tc.e.ID)
		if err != nil || got.Status != tc.wantStatus {
			t.Errorf("erasure %s = %s (%v), want %s", tc.e.ID, got.Status, err, tc.wantStatus)
		}
		stream, err := js.Stream(context.Background(), events.StreamOrders)
		if err != nil {
			t.Fatal(err)
		}
		subject := events.OrderPlacedSubject(tc.e.CustomerID.String())
		info, err := stream.Info(context.Background(), jetstream.WithSubjectFilter(subject))
		if err != nil {
			t.Fatal(err)
		}
		if got := info.State.Subjects[subject]; got != tc.wantMsgs {
			t.Errorf("%s holds %d messages, want %d", subject, got, tc.wantMsgs)
		}
	}
}
