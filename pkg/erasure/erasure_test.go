package erasure_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/erasure"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/inbox"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/pgtest"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { pgtest.Main(m, &cluster) }

// TestParticipant erases a customer's notes and waiting outbox events,
// answers once per request however often it is delivered, answers a later
// request again, and leaves another customer's data alone.
func TestParticipant(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	pool := cluster.NewPool(t, inbox.Migrations(), outbox.Migrations(), erasure.Migrations())
	if _, err := pool.Exec(ctx, `CREATE TABLE notes (customer_id uuid NOT NULL, body text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	ada, bob := uuid.NewString(), uuid.NewString()
	for _, c := range []string{ada, ada, bob} {
		if _, err := pool.Exec(ctx, `INSERT INTO notes VALUES ($1, 'personal')`, c); err != nil {
			t.Fatal(err)
		}
	}
	enqueueFor(t, pool, ada)
	enqueueFor(t, pool, bob)

	logger := slog.New(slog.DiscardHandler)
	relay, err := outbox.NewRelay(outbox.RelayConfig{Pool: pool, Publisher: natsjs.NewPublisher(js), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	p := erasure.Participant{
		Service: "notes", Pool: pool, Relay: relay, Logger: logger,
		Erase: func(ctx context.Context, tx pgx.Tx, customerID string, _ time.Time) (map[string]int64, error) {
			tag, err := tx.Exec(ctx, `DELETE FROM notes WHERE customer_id = $1`, customerID)
			return map[string]int64{"notes": tag.RowsAffected()}, err
		},
	}
	sub := p.Subscription()
	if sub.Durable != "notes-erasure" || sub.Stream != events.StreamGDPR {
		t.Fatalf("subscription = %s on %s, want notes-erasure on GDPR", sub.Durable, sub.Stream)
	}
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

	first := request(t, ada)
	servicetest.MustPublish(t, js, first)
	again := &nats.Msg{Subject: first.Subject, Header: nats.Header{}, Data: first.Data}
	for k, v := range first.Header {
		again.Header[k] = v
	}
	again.Header.Set(nats.MsgIdHdr, "redelivered-copy") // the same ce-id, past JetStream's dedup
	seq := servicetest.MustPublish(t, js, again)

	answers := waitAnswers(t, js, seq, 1)
	if got := answers[0].Erased; got["notes"] != 2 || got["outbox"] != 1 || answers[0].Service != "notes" || answers[0].CustomerID != ada {
		t.Errorf("answer = %+v, want 2 notes and 1 outbox event of %s erased by notes", answers[0], ada)
	}
	count := func(c string) int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM notes WHERE customer_id = $1`, c).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if count(ada) != 0 || count(bob) != 1 {
		t.Errorf("notes left: ada %d, bob %d; want 0 and 1", count(ada), count(bob))
	}
	var waiting int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE type = $1`, events.TypeOrderPlaced).Scan(&waiting); err != nil {
		t.Fatal(err)
	}
	if waiting != 1 {
		t.Errorf("outbox holds %d order events, want bob's 1", waiting)
	}

	// A later request erases again (nothing left now) and answers again.
	seq = servicetest.MustPublish(t, js, request(t, ada))
	answers = waitAnswers(t, js, seq, 2)
	if got := answers[1].Erased; got["notes"] != 0 || got["outbox"] != 0 {
		t.Errorf("second answer erased %v, want nothing", got)
	}
}

func enqueueFor(t *testing.T, pool *pgxpool.Pool, customer string) {
	t.Helper()
	ev, err := events.New("/test", events.TypeOrderPlaced, "o", events.OrderPlaced{OrderID: "o"})
	if err != nil {
		t.Fatal(err)
	}
	err = pgx.BeginFunc(t.Context(), pool, func(tx pgx.Tx) error {
		return outbox.Enqueue(t.Context(), tx, events.OrderPlacedSubject(customer), ev)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func request(t *testing.T, customer string) *nats.Msg {
	t.Helper()
	id := uuid.NewString()
	ev, err := events.New("/orderbus/gdpr", events.TypeErasureRequested, id,
		events.ErasureRequested{ErasureID: id, CustomerID: customer, RequestedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return &nats.Msg{Subject: events.SubjectErasureRequested, Header: ev.Header(), Data: ev.Data}
}

// waitAnswers waits until the participant has settled every request up to
// stream sequence seq (a later one is its own answer, outside its filter) and
// the GDPR stream holds n answers, and returns them, oldest first.
func waitAnswers(t *testing.T, js jetstream.JetStream, seq uint64, n int) []events.ErasureCompleted {
	t.Helper()
	subject := events.ErasureCompletedSubject("notes")
	var msgs []*jetstream.RawStreamMsg
	servicetest.WaitFor(t, 20*time.Second, "the answers", func() (bool, string) {
		msgs = servicetest.StreamMsgs(t, js, events.StreamGDPR, subject)
		settled, seen := servicetest.Settled(js, events.StreamGDPR, "notes-erasure", seq)
		return settled && len(msgs) >= n, fmt.Sprintf("%d answers; consumer %s", len(msgs), seen)
	})
	if len(msgs) != n {
		t.Fatalf("%d answers, want %d", len(msgs), n)
	}
	out := make([]events.ErasureCompleted, n)
	for i, m := range msgs {
		ev, err := events.Parse(nats.Header(m.Header), m.Data)
		if err != nil {
			t.Fatal(err)
		}
		if err := ev.Decode(&out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
