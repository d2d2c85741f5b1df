package erasure_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderbus/orderbus/pkg/erasure"
	"github.com/orderbus/orderbus/pkg/erasure/erasuretest"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/inbox"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

// TestGuardAndVerification: after an erasure, Check suppresses (and
// records) an effect about an order placed up to the cut-off and lets a
// later one through, SuppressDeadLetter refuses the copy of an old
// customer message only, and the verification waits until the service's
// consumer has settled the purge bound, then answers with the
// suppression and nothing remaining.
func TestGuardAndVerification(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	if err := natsjs.EnsureStreams(ctx, js, events.Streams(events.DefaultRetention())...); err != nil {
		t.Fatal(err)
	}
	pool := cluster.NewPool(t, inbox.Migrations(), outbox.Migrations(), erasure.Migrations())
	if _, err := pool.Exec(ctx, `CREATE TABLE notes (customer_id uuid NOT NULL, placed_at timestamptz NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	relay, err := outbox.NewRelay(outbox.RelayConfig{Pool: pool, Publisher: natsjs.NewPublisher(js), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	guard, err := erasure.NewGuard(pool, reg)
	if err != nil {
		t.Fatal(err)
	}
	// A consumer of the service on ORDERS, whose in-flight message the
	// verification must wait for.
	orders, err := js.CreateOrUpdateConsumer(ctx, events.StreamOrders, jetstream.ConsumerConfig{
		Durable: "notes", AckPolicy: jetstream.AckExplicitPolicy, AckWait: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	p := erasure.Participant{
		Service: "notes", Pool: pool, Relay: relay, Logger: logger, Guard: guard, JS: js,
		Consumers: []erasure.Consumer{{Stream: events.StreamOrders, Durable: "notes"}},
		Erase: func(ctx context.Context, tx pgx.Tx, customerID string, before time.Time) (map[string]int64, error) {
			tag, err := tx.Exec(ctx, `DELETE FROM notes WHERE customer_id = $1 AND placed_at <= $2`, customerID, before)
			return map[string]int64{"notes": tag.RowsAffected()}, err
		},
	}
	sub := p.Subscription()
	cons, err := natsjs.NewConsumer(ctx, js, sub.ConsumerConfig(natsjs.ConsumerSettings{
		Concurrency: 2, BackOff: []time.Duration{50 * time.Millisecond},
	}, 30*time.Second, logger, nil), sub.Handler())
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- cons.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})

	ada := uuid.NewString()
	cutoff := time.Now().UTC().Truncate(time.Microsecond)
	request, erasureID := erasuretest.RequestAt(t, ada, cutoff)
	erasuretest.Answers(t, js, "notes", servicetest.MustPublish(t, js, request), 1, erasuretest.OutboxEmpty(t, pool))

	check := func(eventID string, placedAt time.Time) bool {
		t.Helper()
		var suppressed bool
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			var err error
			suppressed, err = guard.Check(ctx, tx, "notes", eventID, ada, placedAt)
			if err == nil && !suppressed {
				_, err = tx.Exec(ctx, `INSERT INTO notes VALUES ($1, $2)`, ada, placedAt)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return suppressed
	}
	if !check("old", cutoff.Add(-time.Second)) || !check("unknown time", time.Time{}) {
		t.Errorf("an effect about an order placed up to the cut-off was not suppressed")
	}
	if check("new", cutoff.Add(time.Second)) {
		t.Errorf("an effect about an order placed after the cut-off was suppressed")
	}
	if erased, err := guard.Erased(ctx, ada, cutoff); err != nil || !erased {
		t.Errorf("Erased at the cut-off = %v, %v; want true", erased, err)
	}
	if erased, err := guard.Erased(ctx, uuid.NewString(), cutoff); err != nil || erased {
		t.Errorf("Erased of another customer = %v, %v; want false", erased, err)
	}
	for _, tc := range []struct {
		subject, body string
		want          bool
	}{
		{events.OrderPlacedSubject(ada), fmt.Sprintf(`{"placed_at":%q}`, cutoff.Add(-time.Second).Format(time.RFC3339Nano)), true},
		{events.InventoryReservedSubject(ada), `{}`, true},
		{events.OrderPlacedSubject(ada), fmt.Sprintf(`{"placed_at":%q}`, cutoff.Add(time.Second).Format(time.RFC3339Nano)), false},
		{events.OrderPlacedSubject(uuid.NewString()), `{}`, false},
		{events.SubjectErasureRequested, `{"customer_id":"` + ada + `"}`, false},
		{events.OrderPlacedSubject(ada), `not json`, false},
	} {
		if got, err := guard.SuppressDeadLetter(ctx, tc.subject, []byte(tc.body)); err != nil || got != tc.want {
			t.Errorf("SuppressDeadLetter(%s, %s) = %v, %v; want %v", tc.subject, tc.body, got, err, tc.want)
		}
	}

	// One message in flight on the service's ORDERS consumer, up to the bound.
	bound := servicetest.MustPublish(t, js, &nats.Msg{Subject: events.OrderPlacedSubject(ada), Data: []byte(`{}`)})
	batch, err := orders.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var inFlight jetstream.Msg
	for m := range batch.Messages() {
		inFlight = m
	}
	if inFlight == nil {
		t.Fatal("no message fetched")
	}
	servicetest.MustPublish(t, js, erasuretest.Verify(t, erasureID, ada, cutoff, map[string]uint64{events.StreamOrders: bound}))
	servicetest.WaitFor(t, 10*time.Second, "a verification attempt", func() (bool, string) {
		c, err := js.Consumer(ctx, events.StreamGDPR, p.Durable())
		if err != nil {
			return false, err.Error()
		}
		info, err := c.Info(ctx)
		return err == nil && info.NumRedelivered > 0, fmt.Sprintf("redelivered %d (%v)", info.NumRedelivered, err)
	})
	if n := len(servicetest.StreamMsgs(t, js, events.StreamGDPR, events.ErasureVerifiedSubject("notes"))); n != 0 {
		t.Fatalf("verified with a message in flight up to the bound")
	}
	if err := inFlight.Ack(); err != nil {
		t.Fatal(err)
	}
	v := erasuretest.Verifications(t, js, "notes", 1)[0]
	if v.ErasureID != erasureID || v.CustomerID != ada || v.Suppressed != 2 || v.Remaining["notes"] != 0 ||
		v.Consumers["notes"] < bound {
		t.Errorf("verification = %+v, want 2 suppressed, nothing remaining, notes settled past %d", v, bound)
	}
	var left int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM notes WHERE customer_id = $1`, ada).Scan(&left); err != nil || left != 1 {
		t.Errorf("%d notes of Ada left (%v), want the new order's 1", left, err)
	}
}
