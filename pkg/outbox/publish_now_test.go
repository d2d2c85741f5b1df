package outbox_test

import (
	"context"
	"testing"
	"time"

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
