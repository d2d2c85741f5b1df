package outbox_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/pkg/natstest"
)

func TestPublishNow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		subject    string // "" means the event's own subject, which a stream holds
		stop       bool   // stop the broker first
		want       bool
		wantStream uint64
		wantErrors float64
	}{
		{name: "published", want: true, wantStream: 1},
		{name: "no stream for the subject", subject: "nowhere.c1", wantErrors: 1},
		// Disconnected, it does not try: no publish error is counted.
		{name: "nats not connected", stop: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ev := newEvent(t, "c1")
			if tt.subject == "" {
				enqueue(t, e.pool, ev)
			} else {
				enqueueOn(t, e.pool, tt.subject, ev)
			}
			if tt.stop {
				if err := e.srv.Stop(t.Context()); err != nil {
					t.Fatal(err)
				}
				waitFor(t, 10*time.Second, func() (bool, string) {
					st := e.pub.Status()
					return st.String() != "CONNECTED", "connection still " + st.String()
				})
			}
			// A canceled ctx does not stop it: the event is committed.
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if got := e.relay.PublishNow(ctx, natstest.Logger(t), ev.ID); got != tt.want {
				t.Fatalf("PublishNow = %v, want %v", got, tt.want)
			}
			wantPending := 1
			if tt.want {
				wantPending = 0
			}
			if n := pending(t, e.pool); n != wantPending {
				t.Errorf("outbox has %d rows, want %d", n, wantPending)
			}
			if !tt.stop {
				if n := streamMsgs(t, e.js); n != tt.wantStream {
					t.Errorf("stream has %d messages, want %d", n, tt.wantStream)
				}
			}
			if got := metric(t, e.reg, "orderbus_outbox_publish_errors_total"); got != tt.wantErrors {
				t.Errorf("publish_errors_total = %v, want %v", got, tt.wantErrors)
			}
		})
	}
}

// TestConcurrentPublishNow: concurrent calls, published together, each
// learn their own events' fate. One event has no stream for its subject:
// its call reports false, a call reporting true has its event in the
// stream and out of the outbox, a call reporting false has it still in
// the outbox, and Run then publishes every other event once (JetStream
// drops the copies of those sent after the failure).
func TestConcurrentPublishNow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n, bad = 64, 20
	evs := newEvents(t, n)
	for i, ev := range evs {
		if i == bad {
			enqueueOn(t, e.pool, "nowhere.c1", ev)
		} else {
			enqueue(t, e.pool, ev)
		}
	}
	got := make([]bool, n)
	var wg sync.WaitGroup
	for i, ev := range evs {
		wg.Go(func() { got[i] = e.relay.PublishNow(t.Context(), natstest.Logger(t), ev.ID) })
	}
	wg.Wait()
	if got[bad] {
		t.Errorf("PublishNow of the event without a stream = true, want false")
	}
	waiting := map[string]bool{}
	rows, err := e.pool.Query(t.Context(), `SELECT id FROM outbox`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		waiting[id] = true
	}
	reported := 0
	for i, ev := range evs {
		if got[i] {
			reported++
		}
		if got[i] == waiting[ev.ID] {
			t.Errorf("event %d: PublishNow = %v, but in the outbox = %v", i, got[i], waiting[ev.ID])
		}
	}
	if stored := streamMsgs(t, e.js); stored < uint64(reported) {
		t.Errorf("stream has %d messages, fewer than the %d calls that reported true", stored, reported)
	}
	// Run publishes oldest first, so it would stop at the unpublishable
	// event each time: take it away, then every other one goes out once.
	if _, err := e.pool.Exec(t.Context(), `DELETE FROM outbox WHERE id = $1`, evs[bad].ID); err != nil {
		t.Fatal(err)
	}
	run(t, e.relay)
	waitFor(t, 10*time.Second, func() (bool, string) {
		p, s := pending(t, e.pool), streamMsgs(t, e.js)
		return p == 0 && s == n-1, fmt.Sprintf("%d waiting, %d in the stream; want 0 and %d", p, s, n-1)
	})
}
