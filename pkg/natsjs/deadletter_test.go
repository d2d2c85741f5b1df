package natsjs_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
)

// TestDeadLetterFailureKeepsMessage checks that a message the runner gives
// up on is not dropped while the DLQ cannot store it: it is retried, and
// dead-lettered exactly once when the DLQ is back.
func TestDeadLetterFailureKeepsMessage(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	if err := js.DeleteStream(ctxT(t), events.StreamDLQ); err != nil {
		t.Fatalf("delete DLQ: %v", err)
	}
	reg := prometheus.NewRegistry()
	rec := &recorder{fn: func(int, natsjs.Message) error { return natsjs.Permanent(errors.New("bad recipient")) }}
	runConsumer(t, js, natsjs.ConsumerConfig{Stream: events.StreamOrders, Durable: "email", Metrics: reg,
		BackOff: []time.Duration{100 * time.Millisecond}}, rec.handle)
	seq := publish(t, js, newEvent(t, "c-1"))

	waitFor(t, 10*time.Second, "failed dead-letterings", func() (bool, string) {
		n := counter(t, reg, "orderbus_consumer_messages_total", map[string]string{"outcome": "dead_letter_failed"})
		return n >= 2, fmt.Sprint(n)
	})
	if info := consumerInfo(t, js, events.StreamOrders, "email"); info.AckFloor.Stream >= seq {
		t.Fatalf("message settled (ack floor %d) although the DLQ was missing", info.AckFloor.Stream)
	}
	if err := natsjs.EnsureStreams(ctxT(t), js, events.Streams(events.DefaultRetention())...); err != nil {
		t.Fatalf("recreate DLQ: %v", err)
	}
	waitSettled(t, js, "email", seq)
	if n := len(dlqMessages(t, js)); n != 1 {
		t.Errorf("DLQ holds %d messages, want 1", n)
	}
}

// TestLostDeliveryIsHandled checks a delivery whose outcome was lost (a
// crashed instance): it is redelivered after AckWait and handled, never
// dead-lettered for the deliveries it cost.
func TestLostDeliveryIsHandled(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	cfg := natsjs.ConsumerConfig{Stream: events.StreamOrders, Durable: "email", AckWait: time.Second,
		HandlerTimeout: 500 * time.Millisecond, Logger: natstest.Logger(t)}
	rec := &recorder{}
	if _, err := natsjs.NewConsumer(ctxT(t), js, cfg, rec.handle); err != nil {
		t.Fatalf("new consumer: %v", err)
	}
	seq := publish(t, js, newEvent(t, "c-1"))

	// Take delivery 1 and lose it, as a crashed instance would.
	cons, err := js.Consumer(ctxT(t), events.StreamOrders, "email")
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	lost := 0
	for range batch.Messages() {
		lost++
	}
	if lost != 1 {
		t.Fatalf("fetched %d messages, want 1", lost)
	}

	runConsumer(t, js, cfg, rec.handle)
	waitSettled(t, js, "email", seq)
	calls := rec.snapshot()
	if len(calls) != 1 || calls[0].NumDelivered != 2 {
		t.Errorf("handler calls = %+v, want one, on delivery 2", calls)
	}
	if dlq := dlqMessages(t, js); len(dlq) != 0 {
		t.Errorf("DLQ holds %d messages, want none", len(dlq))
	}
}
