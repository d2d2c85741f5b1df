package natsjs_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
)

// TestRunShutdownFinishesInFlight checks that stopping Run lets a running
// handler finish with a live context, acks its message, and only then returns.
func TestRunShutdownFinishesInFlight(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)

	started := make(chan struct{})
	stopAsked := make(chan struct{})
	runReturned := make(chan struct{})
	var handlerCtxErr, returnedEarly atomic.Value
	h := func(ctx context.Context, m natsjs.Message) error {
		close(started)
		<-stopAsked
		time.Sleep(200 * time.Millisecond) // the in-flight work; Run must wait for it
		handlerCtxErr.Store(fmt.Sprint(ctx.Err()))
		select {
		case <-runReturned:
			returnedEarly.Store(true)
		default:
			returnedEarly.Store(false)
		}
		return nil
	}
	stop := runConsumer(t, js, natsjs.ConsumerConfig{Stream: events.StreamOrders, Durable: "email"}, h)
	seq := publish(t, js, newEvent(t, "c-1"))
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("handler did not start")
	}
	errc := make(chan error, 1)
	go func() { errc <- stop(); close(runReturned) }()
	close(stopAsked)
	if err := <-errc; err != nil {
		t.Fatalf("Run returned %v, want nil", err)
	}
	if got := returnedEarly.Load(); got != false {
		t.Errorf("Run returned before the in-flight handler finished")
	}
	if got := handlerCtxErr.Load(); got != "<nil>" {
		t.Errorf("handler ctx error = %v, want nil: shutdown must not cancel handlers", got)
	}
	info := waitSettled(t, js, "email", seq)
	if info.Delivered.Consumer != 1 {
		t.Errorf("deliveries = %d, want 1", info.Delivered.Consumer)
	}
}

// TestRunSurvivesServerRestart checks that a consumer keeps working after
// its nats-server is stopped and started again.
func TestRunSurvivesServerRestart(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	nc, js := natstest.Connect(t, srv)
	rec := &recorder{}
	reg := prometheus.NewRegistry()
	runConsumer(t, js, natsjs.ConsumerConfig{Stream: events.StreamOrders, Durable: "email", Metrics: reg}, rec.handle)
	pub := natsjs.NewPublisher(js)

	before := newEvent(t, "c-1")
	if err := pub.Publish(ctxT(t), events.OrderPlacedSubject("c-1"), before); err != nil {
		t.Fatalf("publish: %v", err)
	}
	waitSettled(t, js, "email", 1)

	if err := srv.Stop(ctxT(t)); err != nil {
		t.Fatalf("stop nats: %v", err)
	}
	waitFor(t, 10*time.Second, "the runner to notice the outage", func() (bool, string) {
		n := counter(t, reg, "orderbus_consumer_fetch_errors_total", map[string]string{"durable": "email"})
		return n >= 1 && !nc.IsConnected(), fmt.Sprintf("fetch errors %v, connection %v", n, nc.Status())
	})
	if err := srv.Start(ctxT(t)); err != nil {
		t.Fatalf("start nats: %v", err)
	}

	after := newEvent(t, "c-2")
	waitFor(t, 20*time.Second, "publish after restart", func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err := pub.Publish(ctx, events.OrderPlacedSubject("c-2"), after)
		return err == nil, fmt.Sprint(err)
	})
	waitSettled(t, js, "email", 2)
	var ids []string
	for _, m := range rec.snapshot() {
		ids = append(ids, m.Event.ID)
	}
	if len(ids) != 2 || ids[0] != before.ID || ids[1] != after.ID {
		t.Errorf("handled %v, want [%s %s]", ids, before.ID, after.ID)
	}
}

// TestRunTwice checks that one Consumer cannot run twice at once.
func TestRunTwice(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	c, err := natsjs.NewConsumer(ctxT(t), js, natsjs.ConsumerConfig{Stream: events.StreamOrders, Durable: "email",
		Logger: natstest.Logger(t)}, func(context.Context, natsjs.Message) error { return nil })
	if err != nil {
		t.Fatalf("new consumer: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { first <- c.Run(ctx) }()
	waitFor(t, 10*time.Second, "first Run to fetch", func() (bool, string) {
		n := consumerInfo(t, js, events.StreamOrders, "email").NumWaiting
		return n > 0, fmt.Sprint("waiting pulls ", n)
	})
	if err := c.Run(ctx); err == nil {
		t.Error("second concurrent Run returned nil, want an error")
	}
	cancel()
	if err := <-first; err != nil {
		t.Errorf("first Run = %v, want nil", err)
	}
}

// TestRunReturnsWhenConnectionClosed checks that Run gives up, with an
// error, once its connection is closed for good.
func TestRunReturnsWhenConnectionClosed(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	nc, js := natstest.Connect(t, srv)
	c, err := natsjs.NewConsumer(ctxT(t), js, natsjs.ConsumerConfig{Stream: events.StreamOrders, Durable: "email",
		Logger: natstest.Logger(t)}, func(context.Context, natsjs.Message) error { return nil })
	if err != nil {
		t.Fatalf("new consumer: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	nc.Close()
	select {
	case err := <-done:
		if err == nil || !errors.Is(err, nats.ErrConnectionClosed) {
			t.Errorf("Run = %v, want a connection-closed error", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after the connection closed")
	}
}
