package natsjs_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
)

// waitFor polls cond every 20ms until it holds or timeout passes, then
// fails the test with what cond last reported.
func waitFor(tb testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, seen := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s; last seen: %s", timeout, what, seen)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ctxT(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

// newEvent returns an OrderPlaced event for customer.
func newEvent(tb testing.TB, customer string) events.Event {
	tb.Helper()
	ev, err := events.New(events.SourceOf(events.ServiceOrder), events.TypeOrderPlaced, "o-"+customer,
		events.OrderPlaced{OrderID: "o-" + customer, Customer: events.Customer{ID: customer}})
	if err != nil {
		tb.Fatalf("new event: %v", err)
	}
	return ev
}

// publish publishes ev on orders.placed.c-1 and returns its stream sequence.
func publish(tb testing.TB, js jetstream.JetStream, ev events.Event) uint64 {
	tb.Helper()
	msg := &nats.Msg{Subject: events.OrderPlacedSubject("c-1"), Header: ev.Header(), Data: ev.Data}
	ack, err := js.PublishMsg(ctxT(tb), msg)
	if err != nil {
		tb.Fatalf("publish: %v", err)
	}
	return ack.Sequence
}

// recorder is a Handler wrapper that records every call.
type recorder struct {
	mu    sync.Mutex
	calls []natsjs.Message
	fn    func(call int, m natsjs.Message) error
}

func (r *recorder) handle(_ context.Context, m natsjs.Message) error {
	r.mu.Lock()
	r.calls = append(r.calls, m)
	n := len(r.calls)
	r.mu.Unlock()
	if r.fn == nil {
		return nil
	}
	return r.fn(n, m)
}

func (r *recorder) snapshot() []natsjs.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]natsjs.Message(nil), r.calls...)
}

// runConsumer creates the consumer and runs it until the test ends; at
// cleanup it stops it and checks that Run returned nil. It returns the
// function that stops Run and waits for it.
func runConsumer(tb testing.TB, js jetstream.JetStream, cfg natsjs.ConsumerConfig, h natsjs.Handler) (stop func() error) {
	tb.Helper()
	if cfg.Logger == nil {
		cfg.Logger = natstest.Logger(tb)
	}
	c, err := natsjs.NewConsumer(ctxT(tb), js, cfg, h)
	if err != nil {
		tb.Fatalf("new consumer: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(20 * time.Second):
				runErr = fmt.Errorf("run did not return 20s after stop")
			}
		})
		return runErr
	}
	tb.Cleanup(func() {
		if err := stop(); err != nil {
			tb.Errorf("run: %v", err)
		}
	})
	return stop
}

func consumerInfo(tb testing.TB, js jetstream.JetStream, stream, durable string) *jetstream.ConsumerInfo {
	tb.Helper()
	cons, err := js.Consumer(ctxT(tb), stream, durable)
	if err != nil {
		tb.Fatalf("consumer %s: %v", durable, err)
	}
	info, err := cons.Info(ctxT(tb))
	if err != nil {
		tb.Fatalf("consumer info %s: %v", durable, err)
	}
	return info
}

// waitSettled waits until the consumer has every message up to lastSeq
// acknowledged or terminated and none pending: nothing can be redelivered.
func waitSettled(tb testing.TB, js jetstream.JetStream, durable string, lastSeq uint64) *jetstream.ConsumerInfo {
	tb.Helper()
	var info *jetstream.ConsumerInfo
	waitFor(tb, 20*time.Second, "consumer "+durable+" settled", func() (bool, string) {
		info = consumerInfo(tb, js, events.StreamOrders, durable)
		return info.AckFloor.Stream >= lastSeq && info.NumAckPending == 0 && info.NumPending == 0,
			fmt.Sprintf("ack floor %d, ack pending %d, pending %d, delivered %d",
				info.AckFloor.Stream, info.NumAckPending, info.NumPending, info.Delivered.Consumer)
	})
	return info
}

// dlqMessages returns every message in the DLQ stream.
func dlqMessages(tb testing.TB, js jetstream.JetStream) []*jetstream.RawStreamMsg {
	tb.Helper()
	s, err := js.Stream(ctxT(tb), events.StreamDLQ)
	if err != nil {
		tb.Fatalf("dlq stream: %v", err)
	}
	info, err := s.Info(ctxT(tb))
	if err != nil {
		tb.Fatalf("dlq info: %v", err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctxT(tb), seq)
		if err != nil {
			tb.Fatalf("dlq msg %d: %v", seq, err)
		}
		out = append(out, m)
	}
	return out
}

// counter sums the samples of counter name whose labels include want.
func counter(tb testing.TB, reg *prometheus.Registry, name string, want map[string]string) float64 {
	tb.Helper()
	return sample(tb, reg, name, want)
}

// sample sums the values of the counter or gauge samples of name whose
// labels include want (0 when there are none).
func sample(tb testing.TB, reg *prometheus.Registry, name string, want map[string]string) float64 {
	tb.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		tb.Fatalf("gather: %v", err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue metric
				}
			}
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}
