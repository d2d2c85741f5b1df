package outbox_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/outbox"
)

func TestPublish(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ev := newEvent(t, "c1")
	other := newEvent(t, "c2")
	enqueue(t, e.pool, ev, other)

	if err := e.relay.Publish(t.Context(), ev.ID, "no-such-event"); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	msg, err := streamOf(t, e.js).GetLastMsgForSubject(t.Context(), subjectOf(ev))
	if err != nil {
		t.Fatalf("published message not in stream: %v", err)
	}
	if got := msg.Header.Get(jetstream.MsgIDHeader); got != ev.ID {
		t.Errorf("Nats-Msg-Id = %q, want %q", got, ev.ID)
	}
	got, err := events.Parse(msg.Header, msg.Data)
	if err != nil {
		t.Fatalf("parse published event: %v", err)
	}
	want := ev
	want.Time = ev.Time.Truncate(time.Microsecond)
	if got.ID != want.ID || got.Source != want.Source || got.Type != want.Type || got.Subject != want.Subject ||
		!got.Time.Equal(want.Time) || string(got.Data) != string(want.Data) || got.TraceParent != want.TraceParent {
		t.Errorf("published event = %+v\nwant %+v", got, want)
	}
	if n := pending(t, e.pool); n != 1 {
		t.Errorf("outbox has %d rows after publishing one of two, want 1", n)
	}
	if n := streamMsgs(t, e.js); n != 1 {
		t.Errorf("stream has %d messages, want 1 (only the requested event)", n)
	}
	if got := metric(t, e.reg, "orderbus_outbox_published_total"); got != 1 {
		t.Errorf("published_total = %v, want 1", got)
	}
}

func TestPublishFailureKeepsEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		subject string
		stop    bool // stop the broker first
	}{
		{name: "no stream for the subject", subject: "nowhere.c1"},
		{name: "broker down", subject: "orders.placed.c1", stop: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ev := newEvent(t, "c1")
			enqueueOn(t, e.pool, tt.subject, ev)
			if tt.stop {
				if err := e.srv.Stop(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			if err := e.relay.Publish(ctx, ev.ID); err == nil {
				t.Fatal("Publish succeeded, want an error")
			}
			if n := pending(t, e.pool); n != 1 {
				t.Errorf("outbox has %d rows after a failed publish, want 1", n)
			}
			if got := metric(t, e.reg, "orderbus_outbox_publish_errors_total"); got != 1 {
				t.Errorf("publish_errors_total = %v, want 1", got)
			}
		})
	}
}

// TestRunBridgesOutage: events enqueued while the broker is down are
// published by Run once it is back, each once.
func TestRunBridgesOutage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.srv.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	evs := newEvents(t, 5)
	enqueue(t, e.pool, evs...)
	run(t, e.relay)
	// Run must keep failing (and keep the events) while the broker is down.
	waitFor(t, 10*time.Second, func() (bool, string) {
		n := metric(t, e.reg, "orderbus_outbox_publish_errors_total")
		return n >= 1, fmt.Sprintf("publish_errors_total = %v", n)
	})
	if n := pending(t, e.pool); n != len(evs) {
		t.Fatalf("outbox has %d rows while the broker is down, want %d", n, len(evs))
	}
	if err := e.srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() (bool, string) {
		n := pending(t, e.pool)
		return n == 0, fmt.Sprintf("%d events still in the outbox", n)
	})
	if n := streamMsgs(t, e.js); n != uint64(len(evs)) {
		t.Errorf("stream has %d messages, want %d", n, len(evs))
	}
	waitFor(t, 5*time.Second, func() (bool, string) {
		n := metric(t, e.reg, "orderbus_outbox_pending")
		return n == 0, fmt.Sprintf("pending gauge = %v", n)
	})
}

// TestRunPublishesOldestFirst: one relay publishes a backlog larger than
// its batch in enqueue order.
func TestRunPublishesOldestFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	relay, reg := e.newRelay(t, 7)
	evs := newEvents(t, 40)
	for _, ev := range evs { // one transaction each, as the order service does
		enqueue(t, e.pool, ev)
	}
	run(t, relay)
	waitFor(t, 20*time.Second, func() (bool, string) {
		n := streamMsgs(t, e.js)
		return n == uint64(len(evs)), fmt.Sprintf("stream has %d messages", n)
	})
	stream := streamOf(t, e.js)
	for i, ev := range evs {
		msg, err := stream.GetMsg(t.Context(), uint64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		if got := msg.Header.Get(jetstream.MsgIDHeader); got != ev.ID {
			t.Fatalf("stream message %d is %s, want %s (enqueue order)", i+1, got, ev.ID)
		}
	}
	waitFor(t, 5*time.Second, func() (bool, string) {
		n := pending(t, e.pool)
		return n == 0, fmt.Sprintf("%d events still in the outbox", n)
	})
	if got := metric(t, reg, "orderbus_outbox_published_total"); got != float64(len(evs)) {
		t.Errorf("published_total = %v, want %d", got, len(evs))
	}
}

// TestConcurrentRelaysPublishOnce: two relays and direct Publish calls race
// over one outbox; every event reaches the stream, and no relay publishes an
// event another one published (the counters would exceed the events, even
// though JetStream would drop the duplicate).
func TestConcurrentRelaysPublishOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r1, reg1 := e.newRelay(t, 5)
	r2, reg2 := e.newRelay(t, 5)
	evs := newEvents(t, 120)
	enqueue(t, e.pool, evs...)

	run(t, r1)
	run(t, r2)
	var wg sync.WaitGroup
	for _, ev := range evs[60:] {
		wg.Go(func() {
			if err := e.relay.Publish(t.Context(), ev.ID); err != nil {
				t.Errorf("Publish %s: %v", ev.ID, err)
			}
		})
	}
	wg.Wait()
	waitFor(t, 20*time.Second, func() (bool, string) {
		n := pending(t, e.pool)
		return n == 0, fmt.Sprintf("%d events still in the outbox", n)
	})
	if n := streamMsgs(t, e.js); n != uint64(len(evs)) {
		t.Errorf("stream has %d messages, want %d", n, len(evs))
	}
	total := metric(t, reg1, "orderbus_outbox_published_total") +
		metric(t, reg2, "orderbus_outbox_published_total") +
		metric(t, e.reg, "orderbus_outbox_published_total")
	if total != float64(len(evs)) {
		t.Errorf("relays published %v events in all, want %d (each once)", total, len(evs))
	}
}

func TestNewRelayValidates(t *testing.T) {
	t.Parallel()
	pool := cluster.NewPool(t, outbox.Migrations())
	pub := natsjs.NewPublisher(nil)
	tests := []struct {
		name    string
		cfg     outbox.RelayConfig
		wantErr bool
	}{
		{name: "defaults", cfg: outbox.RelayConfig{Pool: pool, Publisher: pub}},
		{name: "no pool", cfg: outbox.RelayConfig{Publisher: pub}, wantErr: true},
		{name: "no publisher", cfg: outbox.RelayConfig{Pool: pool}, wantErr: true},
		{name: "negative interval", cfg: outbox.RelayConfig{Pool: pool, Publisher: pub, Interval: -time.Second}, wantErr: true},
		{name: "negative batch", cfg: outbox.RelayConfig{Pool: pool, Publisher: pub, Batch: -1}, wantErr: true},
		{name: "negative publish timeout", cfg: outbox.RelayConfig{Pool: pool, Publisher: pub, PublishTimeout: -time.Second}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := outbox.NewRelay(tt.cfg)
			if (err != nil) != tt.wantErr {
				t.Errorf("NewRelay error = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}
