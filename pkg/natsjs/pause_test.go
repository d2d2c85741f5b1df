package natsjs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
	"github.com/orderbus/orderbus/pkg/web"
)

// TestPauseUntilProbePasses checks that a run of Unavailable failures
// stops fetching (no handler call while paused, though messages wait),
// shows in Paused, the gauge and /readyz (200, degraded), and that the
// probe passing resumes the consumer and every message is acked.
func TestPauseUntilProbePasses(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	reg := prometheus.NewRegistry()
	var down atomic.Bool
	down.Store(true)
	errDown := errors.New("dial tcp 127.0.0.1:1025: connection refused")
	var probes atomic.Int64
	rec := &recorder{fn: func(int, natsjs.Message) error {
		if down.Load() {
			return natsjs.Unavailable("smtp", errDown)
		}
		return nil
	}}
	c, err := natsjs.NewConsumer(ctxT(t), js, natsjs.ConsumerConfig{Stream: events.StreamOrders, Durable: "email",
		Concurrency: 1, PauseAfter: 3, ProbeInterval: 30 * time.Millisecond, Metrics: reg, Logger: natstest.Logger(t),
		BackOff: []time.Duration{10 * time.Millisecond},
		Probes: map[string]natsjs.Probe{"smtp": func(context.Context) error {
			probes.Add(1)
			if down.Load() {
				return errDown
			}
			return nil
		}},
	}, rec.handle)
	if err != nil {
		t.Fatal(err)
	}
	runUntilCleanup(t, c)
	const total = 10
	var last uint64
	for i := range total {
		last = publish(t, js, newEvent(t, fmt.Sprint("c", i)))
	}

	waitFor(t, 10*time.Second, "the pause", func() (bool, string) {
		dep, _, paused := c.Paused()
		return paused && dep == "smtp", fmt.Sprintf("paused %v on %q", paused, dep)
	})
	if n := len(rec.snapshot()); n != 3 {
		t.Errorf("handler calls when the pause began = %d, want PauseAfter (3)", n)
	}
	p0 := probes.Load()
	waitFor(t, 10*time.Second, "three more probes", func() (bool, string) {
		return probes.Load() >= p0+3, fmt.Sprint("probes ", probes.Load())
	})
	if n := len(rec.snapshot()); n != 3 {
		t.Errorf("handler calls while paused grew to %d, want 3", n)
	}
	if v := gauge(t, reg, "orderbus_consumer_paused", map[string]string{"durable": "email", "dependency": "smtp"}); v != 1 {
		t.Errorf("paused gauge = %v, want 1", v)
	}
	if v := counter(t, reg, "orderbus_consumer_pauses_total", map[string]string{"durable": "email", "dependency": "smtp"}); v != 1 {
		t.Errorf("pauses = %v, want 1", v)
	}
	if v := counter(t, reg, "orderbus_consumer_messages_total", map[string]string{"outcome": "dead_lettered"}); v != 0 {
		t.Errorf("dead-lettered %v messages during the outage", v)
	}

	// /readyz stays 200 and says why.
	resp := readyz(t, map[string]web.Check{"consumers": natsjs.ConsumersCheck(c)})
	if resp.code != http.StatusOK || resp.body.Status != "degraded" || resp.body.Checks["consumers"].Status != "degraded" ||
		!strings.Contains(resp.body.Checks["consumers"].Error, "consumer email paused") ||
		!strings.Contains(resp.body.Checks["consumers"].Error, "smtp") ||
		!strings.Contains(resp.body.Checks["consumers"].Error, "connection refused") {
		t.Errorf("readyz while paused = %d %+v, want 200 degraded naming email, smtp and the error", resp.code, resp.body)
	}

	down.Store(false)
	waitSettled(t, js, "email", last)
	if _, _, paused := c.Paused(); paused {
		t.Error("still paused after every message was acked")
	}
	if v := gauge(t, reg, "orderbus_consumer_paused", map[string]string{"durable": "email", "dependency": "smtp"}); v != 0 {
		t.Errorf("paused gauge after resuming = %v, want 0", v)
	}
	if got := ackedEvents(rec); got != total {
		t.Errorf("acked %d distinct events, want %d", got, total)
	}
	if dlq := dlqMessages(t, js); len(dlq) != 0 {
		t.Errorf("DLQ holds %d messages, want none", len(dlq))
	}
	if resp := readyz(t, map[string]web.Check{"consumers": natsjs.ConsumersCheck(c)}); resp.code != 200 || resp.body.Status != "ok" {
		t.Errorf("readyz after resuming = %d %+v, want 200 ok", resp.code, resp.body)
	}
}

// TestPauseWithoutProbeLetsOneTrialThrough checks the half-open circuit:
// with no probe for the failing dependency ("handler" for a plain error),
// one message per ProbeInterval is let through while it fails, and the
// first success resumes fetching.
func TestPauseWithoutProbeLetsOneTrialThrough(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	var down atomic.Bool
	down.Store(true)
	rec := &recorder{fn: func(int, natsjs.Message) error {
		if down.Load() {
			return errors.New("webhook answered 503")
		}
		return nil
	}}
	c, err := natsjs.NewConsumer(ctxT(t), js, natsjs.ConsumerConfig{Stream: events.StreamOrders, Durable: "sms",
		Concurrency: 4, PauseAfter: 2, ProbeInterval: 50 * time.Millisecond, Logger: natstest.Logger(t),
		BackOff: []time.Duration{10 * time.Millisecond}}, rec.handle)
	if err != nil {
		t.Fatal(err)
	}
	runUntilCleanup(t, c)
	const total = 12
	var last uint64
	for i := range total {
		last = publish(t, js, newEvent(t, fmt.Sprint("c", i)))
	}
	waitFor(t, 10*time.Second, "the pause", func() (bool, string) {
		dep, _, paused := c.Paused()
		return paused && dep == "handler", fmt.Sprintf("paused %v on %q", paused, dep)
	})
	n0 := len(rec.snapshot())
	waitFor(t, 10*time.Second, "three trials", func() (bool, string) {
		n := len(rec.snapshot())
		return n >= n0+3, fmt.Sprint("calls ", n)
	})
	if _, _, paused := c.Paused(); !paused {
		t.Error("resumed although every trial failed")
	}
	down.Store(false)
	waitSettled(t, js, "sms", last)
	if got := ackedEvents(rec); got != total {
		t.Errorf("acked %d distinct events, want %d", got, total)
	}
	if _, _, paused := c.Paused(); paused {
		t.Error("still paused after the trial succeeded")
	}
}

// TestHandlerDeadline checks that a handler blocking past HandlerTimeout
// has its ctx canceled, is retried, and succeeds.
func TestHandlerDeadline(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	reg := prometheus.NewRegistry()
	var firstErr atomic.Value
	h := func(ctx context.Context, m natsjs.Message) error {
		if m.NumDelivered == 1 {
			<-ctx.Done() // a hung database call
			firstErr.Store(ctx.Err())
			return natsjs.Unavailable("postgres", ctx.Err())
		}
		return nil
	}
	rec := &recorder{}
	runConsumer(t, js, natsjs.ConsumerConfig{Stream: events.StreamOrders, Durable: "inventory", Metrics: reg,
		HandlerTimeout: 200 * time.Millisecond, BackOff: []time.Duration{10 * time.Millisecond}},
		func(ctx context.Context, m natsjs.Message) error { _ = rec.handle(ctx, m); return h(ctx, m) })
	seq := publish(t, js, newEvent(t, "c-1"))
	info := waitSettled(t, js, "inventory", seq)
	if got, _ := firstErr.Load().(error); !errors.Is(got, context.DeadlineExceeded) {
		t.Errorf("first call's ctx error = %v, want deadline exceeded", got)
	}
	if n := len(rec.snapshot()); n != 2 || info.Delivered.Consumer != 2 {
		t.Errorf("calls %d, deliveries %d; want 2 and 2", n, info.Delivered.Consumer)
	}
	waitFor(t, 5*time.Second, "the timeout metric", func() (bool, string) {
		v := counter(t, reg, "orderbus_consumer_handler_timeouts_total", map[string]string{"durable": "inventory"})
		return v == 1, fmt.Sprint(v)
	})
	if dlq := dlqMessages(t, js); len(dlq) != 0 {
		t.Errorf("DLQ holds %d messages, want none", len(dlq))
	}
}

// runUntilCleanup runs c until the test ends and checks Run's result.
func runUntilCleanup(tb testing.TB, c *natsjs.Consumer) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("run: %v", err)
			}
		case <-time.After(20 * time.Second):
			tb.Errorf("run did not return 20s after stop")
		}
	})
}

// ackedEvents counts the distinct events of rec's calls (the last call of
// each being the one that succeeded, once the consumer is settled).
func ackedEvents(rec *recorder) int {
	seen := map[string]bool{}
	for _, m := range rec.snapshot() {
		seen[m.Event.ID] = true
	}
	return len(seen)
}

type readyzResult struct {
	code int
	body web.ReadyzResponse
}

// readyz serves /readyz with checks once and decodes the answer.
func readyz(tb testing.TB, checks map[string]web.Check) readyzResult {
	tb.Helper()
	rec := httptest.NewRecorder()
	web.HandleReadyz(checks).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	var res readyzResult
	res.code = rec.Code
	if err := json.Unmarshal(rec.Body.Bytes(), &res.body); err != nil {
		tb.Fatalf("readyz body %q: %v", rec.Body, err)
	}
	return res
}

// gauge returns the value of gauge name whose labels include want (0 when absent).
func gauge(tb testing.TB, reg *prometheus.Registry, name string, want map[string]string) float64 {
	tb.Helper()
	return sample(tb, reg, name, want)
}
