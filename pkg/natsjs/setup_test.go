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

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
)

// TestStartWhileServerDown starts everything a consumer service starts
// (connection, stream setup, consumer) while the server is down, then
// brings the server up: the streams appear, the readiness check turns
// green, and a published event is handled.
func TestStartWhileServerDown(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	ctx := ctxT(t)
	if err := srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	log := natstest.Logger(t)
	nc, err := natsjs.Connect(ctx, natstest.URL(srv), t.Name(), log)
	if err != nil {
		t.Fatalf("connect while down: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	setup := natsjs.NewStreamSetup(js, log, events.Streams(events.DefaultRetention())...)
	ready := natsjs.ReadyCheck(nc, js, setup)
	if err := ready(ctx); err == nil {
		t.Fatal("ready check passed while the server is down")
	}
	setupCtx, stopSetup := context.WithCancel(ctx)
	defer stopSetup()
	go setup.Run(setupCtx)

	rec := &recorder{}
	newCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	cons, err := natsjs.NewConsumer(newCtx, js, natsjs.ConsumerConfig{
		Stream: events.StreamOrders, Durable: "late", FilterSubjects: []string{events.FilterOrderPlaced}, Logger: log,
	}, rec.handle)
	if err != nil {
		t.Fatalf("NewConsumer while the server is down: %v", err)
	}
	runCtx, stopRun := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- cons.Run(runCtx) }()

	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	consumersReady := natsjs.ConsumersCheck(cons)
	if err := consumersReady(ctx); err == nil && !cons.Created() {
		t.Fatal("consumers check passed before the durable was created")
	}
	waitFor(t, 20*time.Second, "readiness", func() (bool, string) {
		err := errors.Join(ready(ctx), consumersReady(ctx))
		return err == nil, errString(err)
	})
	publish(t, js, newEvent(t, "c-1"))
	waitFor(t, 20*time.Second, "the event to be handled", func() (bool, string) {
		n := len(rec.snapshot())
		return n == 1, fmt.Sprintf("handled %d", n)
	})
	stopRun()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestDrain(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	nc, _ := natstest.Connect(t, srv)
	if err := natsjs.Drain(nc, 5*time.Second); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	if !nc.IsClosed() {
		t.Fatal("connection not closed after Drain")
	}
	if err := natsjs.Drain(nc, time.Second); err != nil {
		t.Fatalf("Drain of a closed connection: %v", err)
	}
}

func TestDrainWhileReconnecting(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	nc, _ := natstest.Connect(t, srv)
	if err := srv.Stop(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the client to notice", func() (bool, string) {
		return nc.Status() != nats.CONNECTED, nc.Status().String()
	})
	if err := natsjs.Drain(nc, 5*time.Second); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	if !nc.IsClosed() {
		t.Fatal("connection not closed after Drain")
	}
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// TestConsumerWaitsForStream creates a consumer before its stream exists,
// as a consumer service does when it starts before the service that
// creates the streams: Run creates the durable once the stream appears.
func TestConsumerWaitsForStream(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	log := natstest.Logger(t)
	ctx := ctxT(t)
	nc, err := natsjs.Connect(ctx, natstest.URL(srv), t.Name(), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	cons, err := natsjs.NewConsumer(ctx, js, natsjs.ConsumerConfig{
		Stream: events.StreamOrders, Durable: "early", FilterSubjects: []string{events.FilterOrderPlaced}, Logger: log,
	}, rec.handle)
	if err != nil {
		t.Fatalf("NewConsumer before the stream exists: %v", err)
	}
	runCtx, stopRun := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- cons.Run(runCtx) }()

	if err := natsjs.EnsureStreams(ctx, js, events.Streams(events.DefaultRetention())...); err != nil {
		t.Fatal(err)
	}
	publish(t, js, newEvent(t, "c-1"))
	waitFor(t, 20*time.Second, "the event to be handled", func() (bool, string) {
		n := len(rec.snapshot())
		return n == 1, fmt.Sprintf("handled %d", n)
	})
	stopRun()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// TestStreamDeletedAtRunTimeIsRecreated deletes ORDERS while a service
// runs: the ready check fails until the stream setup has recreated it,
// and the consumer recreates its durable and handles what is published
// to the new stream.
func TestStreamDeletedAtRunTimeIsRecreated(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	nc, js := natstest.Connect(t, srv)
	log := natstest.Logger(t)
	setup := natsjs.NewStreamSetup(js, log, events.Streams(events.DefaultRetention())...)
	setup.CheckInterval = 50 * time.Millisecond
	ctx, stop := context.WithCancel(context.Background())
	setupDone := make(chan struct{})
	go func() { setup.Run(ctx); close(setupDone) }()
	t.Cleanup(func() { stop(); <-setupDone })
	rec := &recorder{}
	c, err := natsjs.NewConsumer(ctxT(t), js, natsjs.ConsumerConfig{Stream: events.StreamOrders, Durable: "email",
		Logger: log}, rec.handle)
	if err != nil {
		t.Fatal(err)
	}
	runUntilCleanup(t, c)
	ready := natsjs.ReadyCheck(nc, js, setup)
	consumers := natsjs.ConsumersCheck(c)
	waitFor(t, 10*time.Second, "ready", func() (bool, string) {
		err := errors.Join(ready(ctxT(t)), consumers(ctxT(t)))
		return err == nil, errString(err)
	})
	first := publish(t, js, newEvent(t, "c-1"))
	waitSettled(t, js, "email", first)

	// Delete ORDERS, and hold its subjects with another stream so that it
	// cannot be recreated before the test has seen the check fail.
	if err := js.DeleteStream(ctxT(t), events.StreamOrders); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctxT(t), jetstream.StreamConfig{Name: "BLOCKER", Subjects: []string{"orders.>"},
		Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the ready check to fail", func() (bool, string) {
		err := ready(ctxT(t))
		return err != nil && strings.Contains(err.Error(), events.StreamOrders), errString(err)
	})
	waitFor(t, 10*time.Second, "the consumers check to fail", func() (bool, string) {
		err := consumers(ctxT(t))
		return err != nil, errString(err)
	})
	if err := js.DeleteStream(ctxT(t), "BLOCKER"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "ready again", func() (bool, string) {
		err := errors.Join(ready(ctxT(t)), consumers(ctxT(t)))
		return err == nil, errString(err)
	})
	ev := newEvent(t, "c-2")
	seq := publish(t, js, ev)
	waitSettled(t, js, "email", seq)
	calls := rec.snapshot()
	if len(calls) != 2 || calls[1].Event.ID != ev.ID {
		t.Errorf("handled %d events, want the first and the one published to the recreated stream", len(calls))
	}
}

// TestStreamSetupManagesOnlyItsStreams checks that a setup with Manages
// creates those streams, as the service's own identity, and waits for the
// others: not ready, naming them, until someone else creates them.
func TestStreamSetupManagesOnlyItsStreams(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	log := natstest.Logger(t)
	nc, js, err := natsjs.Dial(ctxT(t), srv.UserURL(events.ServiceInventory), t.Name(), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	setup := natsjs.NewStreamSetup(js, log, events.Streams(events.DefaultRetention())...)
	setup.Manages = events.ManagedBy(events.ServiceInventory)
	setup.CheckInterval = 50 * time.Millisecond
	ctx, stop := context.WithCancel(ctxT(t))
	defer stop()
	go setup.Run(ctx)
	waitFor(t, 10*time.Second, "INVENTORY and DLQ created, the others awaited", func() (bool, string) {
		missing := fmt.Sprint(setup.Missing())
		_, errInv := js.Stream(ctx, events.StreamInventory)
		_, errDLQ := js.Stream(ctx, events.StreamDLQ)
		return missing == "[ORDERS GDPR]" && errInv == nil && errDLQ == nil, fmt.Sprintf("missing %s, %v, %v", missing, errInv, errDLQ)
	})
	natstest.Connect(t, srv) // the admin creates every stream, as order and gdpr would
	waitFor(t, 10*time.Second, "ready", func() (bool, string) { return setup.Ready(), fmt.Sprint(setup.Missing()) })
}
