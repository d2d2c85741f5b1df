package outbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/stack"
)

// env is one test's database, broker and relay.
type env struct {
	srv   *stack.NATS
	pool  *pgxpool.Pool
	js    jetstream.JetStream
	pub   *natsjs.Publisher
	relay *outbox.Relay
	reg   *prometheus.Registry
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	e := &env{srv: srv, pool: cluster.NewPool(t, outbox.Migrations()), js: js, pub: natsjs.NewPublisher(js)}
	e.relay, e.reg = e.newRelay(t, 0)
	return e
}

// newRelay returns a relay on e's pool with its own metrics registry.
func (e *env) newRelay(t *testing.T, batch int) (*outbox.Relay, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	r, err := outbox.NewRelay(outbox.RelayConfig{
		Pool: e.pool, Publisher: e.pub, Logger: natstest.Logger(t),
		Interval: 20 * time.Millisecond, Batch: batch, Metrics: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r, reg
}

// run runs r until the test ends and checks that Run returned nil.
func run(t *testing.T, r *outbox.Relay) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run returned %v, want nil", err)
		}
	})
}

func streamOf(t *testing.T, js jetstream.JetStream) jetstream.Stream {
	t.Helper()
	s, err := js.Stream(t.Context(), events.StreamOrders)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func streamMsgs(t *testing.T, js jetstream.JetStream) uint64 {
	t.Helper()
	info, err := streamOf(t, js).Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// metric returns the value of the counter or gauge name in reg (0 if unset).
func metric(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

// waitFor polls cond until it holds or timeout passes, then fails the test
// with cond's description of what it saw.
func waitFor(t *testing.T, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, seen := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s: %s", timeout, seen)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
