package servicetest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natstest"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

// fakeRun is a service's run in miniature: it serves /readyz (503 for
// READY_AFTER, then 200) and /metrics on HTTP_ADDR, logs to stdout, and
// returns nil once ctx is done.
func fakeRun(ctx context.Context, _ []string, getenv func(string) string, stdout, _ io.Writer) error {
	readyAfter, err := time.ParseDuration(getenv("READY_AFTER"))
	if err != nil {
		return err
	}
	start := time.Now()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if time.Since(start) < readyAfter {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "ready")
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "# HELP fake_total A counter.")
		fmt.Fprintln(w, `fake_total{outcome="sent"} 3`)
	})
	srv := &http.Server{Addr: getenv("HTTP_ADDR"), Handler: mux}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	fmt.Fprintf(stdout, "listening on %s as %s\n", getenv("HTTP_ADDR"), getenv("NAME"))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "stopping")
	if err := srv.Shutdown(context.Background()); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func TestStartRunsTheService(t *testing.T) {
	t.Parallel()
	env := map[string]string{"READY_AFTER": "200ms", "NAME": "fake"}
	s := servicetest.Start(t, fakeRun, env)
	if len(env) != 2 {
		t.Errorf("Start changed the caller's map: %v", env)
	}
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Errorf("URL = %q, want a free port on 127.0.0.1", s.URL)
	}
	s.WaitReady(t)
	if code, body := s.Get("/readyz"); code != http.StatusOK || body != "ready" {
		t.Errorf("GET /readyz = %d %q after WaitReady", code, body)
	}
	if v, ok := s.Metric(t, `fake_total{outcome="sent"}`); !ok || v != 3 {
		t.Errorf("Metric = %v, %v; want 3, true", v, ok)
	}
	if _, ok := s.Metric(t, `fake_total{outcome="failed"}`); ok {
		t.Error("Metric found a series the service does not expose")
	}
	if logs := s.Logs(); !strings.Contains(logs, "listening on "+strings.TrimPrefix(s.URL, "http://")+" as fake") {
		t.Errorf("Logs = %q, want the service's line, with the variables it was given", logs)
	}
	other := servicetest.Start(t, fakeRun, map[string]string{"READY_AFTER": "0s"})
	other.WaitStatus(t, "/nothing", http.StatusNotFound)
	if other.URL == s.URL {
		t.Errorf("two services on one address %s", s.URL)
	}
}

func TestJetStreamHelpers(t *testing.T) {
	t.Parallel()
	_, js := natstest.Connect(t, natstest.Start(t))
	customer := "c-1"
	ev, err := events.New("/orderbus/order", events.TypeOrderPlaced, "o-1", events.OrderPlaced{OrderID: "o-1"})
	if err != nil {
		t.Fatal(err)
	}
	subject := events.OrderPlacedSubject(customer)
	msg := &nats.Msg{Subject: subject, Header: ev.Header(), Data: ev.Data}
	seq := servicetest.MustPublish(t, js, msg)
	if _, err := servicetest.Publish(js, msg); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Errorf("publishing the same Nats-Msg-Id again: %v, want a duplicate error", err)
	}
	if last := servicetest.LastSeq(t, js, events.StreamOrders); last != seq {
		t.Errorf("LastSeq = %d, want %d", last, seq)
	}
	if got := servicetest.StreamMsgs(t, js, events.StreamOrders, subject); len(got) != 1 || got[0].Header.Get("ce-id") != ev.ID {
		t.Errorf("StreamMsgs = %+v, want the one message", got)
	}
	if got := servicetest.StreamMsgs(t, js, events.StreamOrders, events.OrderPlacedSubject("c-2")); len(got) != 0 {
		t.Errorf("StreamMsgs of another subject = %d messages, want none", len(got))
	}

	dead := &nats.Msg{Subject: events.DLQSubject("svc", subject), Header: nats.Header{"Orderbus-Reason": {"permanent"}}, Data: ev.Data}
	servicetest.MustPublish(t, js, dead)
	if got := servicetest.DeadLetters(t, js, "svc", subject); len(got) != 1 || got[0].Header.Get("Orderbus-Reason") != "permanent" {
		t.Errorf("DeadLetters = %+v, want the copy", got)
	}
	if got := servicetest.DeadLetters(t, js, "other", subject); len(got) != 0 {
		t.Errorf("DeadLetters of another consumer = %d, want none", len(got))
	}

	if ok, seen := servicetest.Settled(js, events.StreamOrders, "svc", seq); ok || !strings.Contains(seen, "not found") {
		t.Errorf("Settled before the consumer exists = %v, %q", ok, seen)
	}
	ctx := t.Context()
	cons, err := js.CreateConsumer(ctx, events.StreamOrders, jetstream.ConsumerConfig{
		Durable: "svc", AckPolicy: jetstream.AckExplicitPolicy, FilterSubjects: []string{events.FilterOrderPlaced},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ok, seen := servicetest.Settled(js, events.StreamOrders, "svc", seq); ok {
		t.Errorf("Settled with the message pending = true (%s)", seen)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
	}
	servicetest.WaitFor(t, 5*time.Second, "the consumer to settle", func() (bool, string) {
		return servicetest.Settled(js, events.StreamOrders, "svc", seq)
	})
}
