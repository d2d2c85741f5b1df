package natsjs_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
)

// TestNewDurableStartsWithNewMessages creates a durable after 20 orders:
// it receives only the orders published after it, unless it is to replay
// the history; and an existing durable keeps its deliver policy and
// position when it is created again with another setting.
func TestNewDurableStartsWithNewMessages(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	for i := range 20 {
		publish(t, js, newEvent(t, fmt.Sprint("old", i)))
	}
	fresh, replay := &recorder{}, &recorder{}
	runConsumer(t, js, natsjs.ConsumerConfig{Stream: events.StreamOrders, Durable: "sms-v2"}, fresh.handle)
	runConsumer(t, js, natsjs.ConsumerConfig{Stream: events.StreamOrders, Durable: "audit", ReplayHistory: true}, replay.handle)
	var want []string
	var last uint64
	for i := range 5 {
		ev := newEvent(t, fmt.Sprint("new", i))
		want = append(want, ev.ID)
		last = publish(t, js, ev)
	}
	waitSettled(t, js, "sms-v2", last)
	waitSettled(t, js, "audit", last)
	var got []string
	for _, m := range fresh.snapshot() {
		got = append(got, m.Event.ID)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("new durable handled %d events %v, want only the 5 new ones %v", len(got), got, want)
	}
	if n := len(replay.snapshot()); n != 25 {
		t.Errorf("durable replaying the history handled %d events, want 25", n)
	}
	if p := consumerInfo(t, js, events.StreamOrders, "sms-v2").Config.DeliverPolicy; p != jetstream.DeliverNewPolicy {
		t.Errorf("deliver policy of the new durable = %v, want new", p)
	}

	// Created again with the other setting (a restart with CONSUMER_START
	// changed): JetStream refuses to change the policy, so it is kept.
	again, err := natsjs.NewConsumer(ctxT(t), js, natsjs.ConsumerConfig{Stream: events.StreamOrders, Durable: "audit",
		Logger: natstest.Logger(t)}, replay.handle)
	if err != nil || !again.Created() {
		t.Fatalf("NewConsumer of an existing durable: %v (created %v)", err, again != nil && again.Created())
	}
	info := consumerInfo(t, js, events.StreamOrders, "audit")
	if info.Config.DeliverPolicy != jetstream.DeliverAllPolicy || info.AckFloor.Stream != last {
		t.Errorf("existing durable: policy %v, ack floor %d; want all and %d", info.Config.DeliverPolicy, info.AckFloor.Stream, last)
	}
}

// TestDurableCreatedLaterMissesNothing starts a consumer before its
// stream exists: Run creates the durable only once the stream appears,
// and still receives what was published in between.
func TestDurableCreatedLaterMissesNothing(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	log := natstest.Logger(t)
	nc, js, err := natsjs.Dial(ctxT(t), natstest.URL(srv), t.Name(), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	rec := &recorder{}
	c, err := natsjs.NewConsumer(ctxT(t), js, natsjs.ConsumerConfig{Stream: events.StreamOrders, Durable: "late",
		Logger: log}, rec.handle)
	if err != nil {
		t.Fatal(err)
	}
	if err := natsjs.EnsureStreams(ctxT(t), js, events.Streams(events.DefaultRetention())...); err != nil {
		t.Fatal(err)
	}
	// Published before the durable exists: Run is not running yet.
	early := publish(t, js, newEvent(t, "c-1"))
	runUntilCleanup(t, c)
	waitFor(t, 10*time.Second, "the durable", func() (bool, string) { return c.Created(), "not created" })
	waitSettled(t, js, "late", early)
	if n := len(rec.snapshot()); n != 1 {
		t.Errorf("handled %d events, want the one published before the durable was created", n)
	}
}

// TestRestartsDuringBacklogLoseNothing stops and starts Run ten times
// while a backlog is being handled: nothing is dead-lettered, every
// message is handled at least once and all are acknowledged.
func TestRestartsDuringBacklogLoseNothing(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	const total = 150
	want := map[string]bool{}
	var last uint64
	for i := range total {
		ev := newEvent(t, fmt.Sprint("c", i))
		want[ev.ID] = true
		last = publish(t, js, ev)
	}
	var mu sync.Mutex
	handled := map[string]int{}
	h := func(_ context.Context, m natsjs.Message) error {
		time.Sleep(5 * time.Millisecond) // the work, so a stop finds handlers running
		mu.Lock()
		defer mu.Unlock()
		handled[m.Event.ID]++
		return nil
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(handled)
	}
	cfg := natsjs.ConsumerConfig{Stream: events.StreamOrders, Durable: "email", Concurrency: 4,
		AckWait: 2 * time.Second, HandlerTimeout: time.Second, ReplayHistory: true, Logger: natstest.Logger(t)}
	for cycle := range 10 {
		c, err := natsjs.NewConsumer(ctxT(t), js, cfg, h)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- c.Run(ctx) }()
		before := count()
		waitFor(t, 10*time.Second, fmt.Sprintf("cycle %d to handle some", cycle), func() (bool, string) {
			n := count()
			return n >= min(before+5, total), fmt.Sprint("handled ", n)
		})
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("cycle %d: Run = %v", cycle, err)
		}
	}
	runConsumer(t, js, cfg, h)
	waitSettled(t, js, "email", last)
	if n := count(); n != total {
		t.Errorf("handled %d distinct messages, want %d", n, total)
	}
	if dlq := dlqMessages(t, js); len(dlq) != 0 {
		t.Errorf("DLQ holds %d messages, want none", len(dlq))
	}
}
