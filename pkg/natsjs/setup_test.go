package natsjs_test

import (
	"context"
	"errors"
	"fmt"
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
	nc, err := natsjs.Connect(ctx, srv.URL(), t.Name(), log)
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
	nc, err := natsjs.Connect(ctx, srv.URL(), t.Name(), log)
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
