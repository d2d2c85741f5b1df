package natsjs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
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

// TestFullDLQKeepsMessage fills a small DLQ (discard new): the next dead
// letter is refused, so its message stays in its stream and is retried,
// and it lands in the DLQ once room is made.
func TestFullDLQKeepsMessage(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	reg := prometheus.NewRegistry()
	rec := &recorder{fn: func(int, natsjs.Message) error { return natsjs.Permanent(errors.New("bad recipient")) }}
	runConsumer(t, js, natsjs.ConsumerConfig{Stream: events.StreamOrders, Durable: "email", Metrics: reg,
		Concurrency: 1, BackOff: []time.Duration{50 * time.Millisecond}}, rec.handle)

	first := publish(t, js, newEvent(t, "c-1"))
	waitSettled(t, js, "email", first)
	if n := len(dlqMessages(t, js)); n != 1 {
		t.Fatalf("DLQ holds %d messages, want 1", n)
	}
	// Make the DLQ full: room for the one copy it holds, not for another.
	dlq, err := js.Stream(ctxT(t), events.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	info, err := dlq.Info(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	full := events.Streams(events.Retention{MaxAge: time.Hour, DLQMaxAge: time.Hour, DLQMaxBytes: int64(info.State.Bytes) + 16})[3]
	if _, err := js.UpdateStream(ctxT(t), full); err != nil {
		t.Fatalf("shrink the DLQ: %v", err)
	}
	second := publish(t, js, newEvent(t, "c-2"))
	waitFor(t, 10*time.Second, "refused dead-letterings", func() (bool, string) {
		n := counter(t, reg, "orderbus_consumer_messages_total", map[string]string{"outcome": "dead_letter_failed"})
		return n >= 2, fmt.Sprint(n)
	})
	if info := consumerInfo(t, js, events.StreamOrders, "email"); info.AckFloor.Stream >= second {
		t.Fatalf("message settled (ack floor %d) although the DLQ was full", info.AckFloor.Stream)
	}
	if err := dlq.Purge(ctxT(t)); err != nil {
		t.Fatalf("purge the DLQ: %v", err)
	}
	waitSettled(t, js, "email", second)
	got := dlqMessages(t, js)
	if len(got) != 1 || got[0].Header.Get(natsjs.HeaderStreamSeq) != fmt.Sprint(second) {
		t.Errorf("DLQ after the purge = %d messages, want the second one", len(got))
	}
}

// TestOversizeCopyIsTruncated dead-letters a message that fits the
// server's max_payload while its copy, with the added headers, does not:
// the copy lands without its body, marked truncated.
func TestOversizeCopyIsTruncated(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	nc, js := natstest.Connect(t, srv)
	rec := &recorder{fn: func(int, natsjs.Message) error { return natsjs.Permanent(errors.New("too big to send")) }}
	runConsumer(t, js, natsjs.ConsumerConfig{Stream: events.StreamOrders, Durable: "email",
		BackOff: []time.Duration{50 * time.Millisecond}}, rec.handle)

	ev := newEvent(t, "c-1")
	h := ev.Header()
	h.Set("Nats-Msg-Id", ev.ID)
	headerSize := len("NATS/1.0\r\n\r\n")
	for k, vs := range h {
		for _, v := range vs {
			headerSize += len(k) + len(": ") + len(v) + len("\r\n")
		}
	}
	// A JSON body that just fits: the DLQ headers (some 300 bytes) tip the copy over.
	size := int(nc.MaxPayload()) - headerSize - 64
	body := []byte(`{"order_id":"o-c-1","pad":"` + strings.Repeat("x", size-len(`{"order_id":"o-c-1","pad":""}`)) + `"}`)
	ack, err := js.PublishMsg(ctxT(t), &nats.Msg{Subject: events.OrderPlacedSubject("c-1"), Header: h, Data: body})
	if err != nil {
		t.Fatalf("publish %d bytes: %v", len(body), err)
	}
	waitSettled(t, js, "email", ack.Sequence)
	dlq := dlqMessages(t, js)
	if len(dlq) != 1 {
		t.Fatalf("DLQ holds %d messages, want 1", len(dlq))
	}
	d := dlq[0]
	if d.Header.Get(natsjs.HeaderTruncated) != "true" || d.Header.Get(natsjs.HeaderOriginalSize) != fmt.Sprint(len(body)) ||
		len(d.Data) != 0 || d.Header.Get("ce-type") != events.TypeOrderPlaced || d.Header.Get(natsjs.HeaderReason) != "permanent" {
		t.Errorf("DLQ copy: truncated %q, original size %q (want %d), body %d bytes, ce-type %q, reason %q",
			d.Header.Get(natsjs.HeaderTruncated), d.Header.Get(natsjs.HeaderOriginalSize), len(body), len(d.Data),
			d.Header.Get("ce-type"), d.Header.Get(natsjs.HeaderReason))
	}
}

// TestDeadLetterGauge checks orderbus_consumer_dlq_messages: the messages
// each durable has in the DLQ, 0 for one with none and when the DLQ is gone.
func TestDeadLetterGauge(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	reg := prometheus.NewRegistry()
	failing := func(context.Context, natsjs.Message) error { return natsjs.Permanent(errors.New("no")) }
	runConsumer(t, js, natsjs.ConsumerConfig{Stream: events.StreamOrders, Durable: "email", Metrics: reg}, failing)
	runConsumer(t, js, natsjs.ConsumerConfig{Stream: events.StreamOrders, Durable: "email-erasure", Metrics: reg,
		FilterSubjects: []string{events.FilterOrderRejected}}, failing)
	var last uint64
	for i := range 3 {
		last = publish(t, js, newEvent(t, fmt.Sprint("c", i)))
	}
	waitSettled(t, js, "email", last)
	if v := gauge(t, reg, "orderbus_consumer_dlq_messages", map[string]string{"durable": "email"}); v != 3 {
		t.Errorf("dead letters of email = %v, want 3", v)
	}
	if v, ok := gaugeSample(t, reg, "orderbus_consumer_dlq_messages", "email-erasure"); !ok || v != 0 {
		t.Errorf("dead letters of email-erasure = %v (present %v), want 0", v, ok)
	}
	if err := js.DeleteStream(ctxT(t), events.StreamDLQ); err != nil {
		t.Fatal(err)
	}
	if v, ok := gaugeSample(t, reg, "orderbus_consumer_dlq_messages", "email"); !ok || v != 0 {
		t.Errorf("dead letters without a DLQ = %v (present %v), want 0", v, ok)
	}
}

// gaugeSample returns the sample of gauge name for durable, and whether there is one.
func gaugeSample(tb testing.TB, reg *prometheus.Registry, name, durable string) (float64, bool) {
	tb.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		tb.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "durable" && l.GetValue() == durable {
					return m.GetGauge().GetValue(), true
				}
			}
		}
	}
	return 0, false
}
