package outbox_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/pkg/natstest"
	"github.com/orderbus/orderbus/pkg/outbox"
)

func TestCommitAndPublish(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		subject       string // "" means the event's own subject, which a stream holds
		twice         bool   // enqueue the event twice: the second insert fails
		stop          bool   // stop the broker first
		wantCommitted bool
		wantPublished bool
		wantPending   int
		wantStream    uint64
	}{
		{name: "committed and published", wantCommitted: true, wantPublished: true, wantStream: 1},
		{name: "a failing statement stores nothing", twice: true},
		{name: "no stream for the subject", subject: "nowhere.c1", wantCommitted: true, wantPending: 1},
		{name: "nats not connected", stop: true, wantCommitted: true, wantPending: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ev := newEvent(t, "c1")
			subject := tt.subject
			if subject == "" {
				subject = subjectOf(ev)
			}
			b := &pgx.Batch{}
			for range map[bool]int{false: 1, true: 2}[tt.twice] {
				if err := outbox.QueueEnqueue(t.Context(), b, subject, ev); err != nil {
					t.Fatal(err)
				}
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
			committed, published, err := e.relay.CommitAndPublish(t.Context(), natstest.Logger(t), b, ev.ID)
			if committed != tt.wantCommitted || published != tt.wantPublished {
				t.Errorf("CommitAndPublish = committed %v, published %v; want %v, %v",
					committed, published, tt.wantCommitted, tt.wantPublished)
			}
			if (err != nil) != tt.twice {
				t.Errorf("CommitAndPublish error = %v, want an error: %v", err, tt.twice)
			}
			if n := pending(t, e.pool); n != tt.wantPending {
				t.Errorf("outbox has %d rows, want %d", n, tt.wantPending)
			}
			if !tt.stop {
				if n := streamMsgs(t, e.js); n != tt.wantStream {
					t.Errorf("stream has %d messages, want %d", n, tt.wantStream)
				}
			}
			// The connection went back to the pool outside a transaction.
			if _, err := e.pool.Exec(t.Context(), "SELECT 1"); err != nil {
				t.Errorf("pool after CommitAndPublish: %v", err)
			}
		})
	}
}

func TestQueueEnqueueValidates(t *testing.T) {
	ev := newEvent(t, "c1")
	ev.Type = ""
	b := &pgx.Batch{}
	if err := outbox.QueueEnqueue(t.Context(), b, subjectOf(ev), ev); err == nil {
		t.Fatal("QueueEnqueue accepted an event without a type")
	}
	if b.Len() != 0 {
		t.Errorf("QueueEnqueue queued %d statements for an invalid event, want 0", b.Len())
	}
}
