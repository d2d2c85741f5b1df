package natsjs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
)

func TestPublisher(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	pub := natsjs.NewPublisher(js)

	tests := []struct {
		name     string
		customer string
		events   func(t *testing.T) []events.Event
		wantMsgs int
	}{
		{"one event", "c-one", func(t *testing.T) []events.Event {
			return []events.Event{newEvent(t, "c-one")}
		}, 1},
		{"same event twice is stored once", "c-dup", func(t *testing.T) []events.Event {
			ev := newEvent(t, "c-dup")
			return []events.Event{ev, ev}
		}, 1},
		{"two events are both stored", "c-two", func(t *testing.T) []events.Event {
			return []events.Event{newEvent(t, "c-two"), newEvent(t, "c-two")}
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			subject := events.OrderPlacedSubject(tt.customer)
			evs := tt.events(t)
			for _, ev := range evs {
				if err := pub.Publish(ctxT(t), subject, ev); err != nil {
					t.Fatalf("Publish: %v", err)
				}
			}
			s := ordersStream(t, js)
			if got := storedOn(t, s, subject); got != uint64(tt.wantMsgs) {
				t.Fatalf("stored %d messages on %s, want %d", got, subject, tt.wantMsgs)
			}
			last, err := s.GetLastMsgForSubject(ctxT(t), subject)
			if err != nil {
				t.Fatalf("last msg: %v", err)
			}
			want := evs[len(evs)-1]
			for k, v := range map[string]string{"Nats-Msg-Id": want.ID, "ce-id": want.ID, "ce-type": want.Type,
				"ce-specversion": "1.0", "Content-Type": "application/json"} {
				if got := last.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			got, err := events.Parse(last.Header, last.Data)
			if err != nil || got.ID != want.ID || string(got.Data) != string(want.Data) {
				t.Errorf("Parse(stored) = %+v, %v; want event %s", got, err, want.ID)
			}
		})
	}

	t.Run("no stream for subject", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		err := pub.Publish(ctx, "nowhere.c-1", newEvent(t, "c-1"))
		if err == nil {
			t.Fatal("Publish to a subject without a stream returned nil")
		}
		if !strings.Contains(err.Error(), "nowhere.c-1") {
			t.Errorf("error %q does not name the subject", err)
		}
	})
}

// TestPublishAsyncKeepsOrder sends a batch pipelined: every Wait is nil,
// the stream holds the events in the order sent, once each (the repeated
// first one is dropped by its Nats-Msg-Id), and a send to a subject
// without a stream fails its Wait with the subject named.
func TestPublishAsyncKeepsOrder(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	pub := natsjs.NewPublisher(js)
	subject := events.OrderPlacedSubject("c-async")
	var evs []events.Event
	for range 20 {
		evs = append(evs, newEvent(t, "c-async"))
	}
	var pending []*natsjs.Pending
	for _, ev := range append(evs, evs[0]) {
		p, err := pub.PublishAsync(subject, ev)
		if err != nil {
			t.Fatalf("PublishAsync: %v", err)
		}
		pending = append(pending, p)
	}
	for i, p := range pending {
		if err := p.Wait(ctxT(t)); err != nil {
			t.Fatalf("Wait %d: %v", i, err)
		}
	}
	s := ordersStream(t, js)
	if n := storedOn(t, s, subject); n != uint64(len(evs)) {
		t.Fatalf("stored %d messages, want %d", n, len(evs))
	}
	c, err := s.OrderedConsumer(ctxT(t), jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	batch, err := c.Fetch(len(evs), jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	var got []string
	for m := range batch.Messages() {
		got = append(got, m.Headers().Get("Nats-Msg-Id"))
	}
	if len(got) != len(evs) {
		t.Fatalf("fetched %d messages, want %d", len(got), len(evs))
	}
	for i, id := range got {
		if id != evs[i].ID {
			t.Fatalf("message %d is %s, want %s (the order sent)", i, id, evs[i].ID)
		}
	}

	p, err := pub.PublishAsync("nowhere.c-async", newEvent(t, "c-async"))
	if err != nil {
		t.Fatalf("PublishAsync: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctxT(t), 3*time.Second)
	defer cancel()
	if err := p.Wait(ctx); err == nil || !strings.Contains(err.Error(), "nowhere.c-async") {
		t.Errorf("Wait for a subject without a stream = %v, want an error naming it", err)
	}
}

// ordersStream returns the ORDERS stream.
func ordersStream(t *testing.T, js jetstream.JetStream) jetstream.Stream {
	t.Helper()
	s, err := js.Stream(ctxT(t), events.StreamOrders)
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	return s
}

// storedOn returns how many messages s holds on subject.
func storedOn(t *testing.T, s jetstream.Stream, subject string) uint64 {
	t.Helper()
	info, err := s.Info(ctxT(t), jetstream.WithSubjectFilter(subject))
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	return info.State.Subjects[subject]
}
