package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/auth"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
	"github.com/orderbus/orderbus/pkg/servicetest"
	"github.com/orderbus/orderbus/pkg/web"
)

// testEnv is a console running against a fresh NATS server.
type testEnv struct {
	js      jetstream.JetStream
	console *servicetest.Service
}

// testKey signs the test's operator tokens.
const testKey = "console-test-jwt-key-0123456789abcdef0123456789"

// token mints a token of subject with roles, signed with testKey.
func token(t *testing.T, roles ...string) string {
	t.Helper()
	tok, err := auth.MustKeys(testKey).Mint("test-operator", time.Hour, roles...)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// startEnv starts NATS with the streams, the email and sms durables, a
// fake service serving outbox metrics, and the console.
func startEnv(t *testing.T, env map[string]string) *testEnv {
	t.Helper()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	for _, d := range []string{durableEmail, durableSMS} {
		if _, err := js.CreateOrUpdateConsumer(t.Context(), events.StreamOrders, jetstream.ConsumerConfig{
			Durable: d, FilterSubject: events.FilterOrderPlaced, AckPolicy: jetstream.AckExplicitPolicy,
		}); err != nil {
			t.Fatalf("create durable %s: %v", d, err)
		}
	}
	metrics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "# TYPE orderbus_outbox_pending gauge\norderbus_outbox_pending 3\n"+
			"# TYPE orderbus_consumer_paused gauge\norderbus_consumer_paused{durable=\"email\"} 1\n")
	}))
	t.Cleanup(metrics.Close)
	vars := natstest.ServiceEnv(srv, "reader")
	for k, v := range map[string]string{
		"LOG_FORMAT": "text", "CONSOLE_POLL_INTERVAL": "50ms", "AUTH_JWT_KEY": testKey,
		"CONSOLE_SERVICES": "order=" + metrics.URL + ",gdpr=http://127.0.0.1:1",
		// A redrive connects apart, as the operator identity.
		"CONSOLE_REDRIVE_NATS_USER": "admin", "CONSOLE_REDRIVE_NATS_PASSWORD": srv.Password("admin"),
	} {
		vars[k] = v
	}
	for k, v := range env {
		vars[k] = v
	}
	c := servicetest.Start(t, run, vars)
	c.WaitReady(t)
	return &testEnv{js: js, console: c}
}

func (e *testEnv) publish(t *testing.T, subject, typ string, data any) uint64 {
	t.Helper()
	ev, err := events.New("test", typ, "", data)
	if err != nil {
		t.Fatal(err)
	}
	return servicetest.MustPublish(t, e.js, &nats.Msg{Subject: subject, Header: ev.Header(), Data: ev.Data})
}

func (e *testEnv) snapshot(t *testing.T) snapshot {
	t.Helper()
	code, body := e.console.Get("/v1/snapshot")
	if code != http.StatusOK {
		t.Fatalf("GET /v1/snapshot: %d %s", code, body)
	}
	var s snapshot
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("snapshot: %v\n%s", err, body)
	}
	return s
}

// settle fetches one message on durable and acks it, or terms it.
func (e *testEnv) settle(t *testing.T, durable string, term bool) {
	t.Helper()
	c, err := e.js.Consumer(t.Context(), events.StreamOrders, durable)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := c.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		t.Fatalf("fetch on %s: %v", durable, err)
	}
	if term {
		err = msg.Term()
	} else {
		err = msg.Ack()
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestJourneyConsumersServicesDeadLetters(t *testing.T) {
	e := startEnv(t, nil)
	customer, order := uuid.NewString(), uuid.NewString()
	seq := e.publish(t, events.OrderPlacedSubject(customer), events.TypeOrderPlaced, events.OrderPlaced{
		OrderID: order, Customer: events.Customer{ID: customer, Name: "Ada Lovelace", Email: "ada@example.com"},
		Items: []events.Item{{SKU: "MUG-WHITE", Quantity: 1}, {SKU: "ESPRESSO-1KG", Quantity: 2}},
	})
	// The sms durable dead-letters it: a DLQ copy, then Term.
	dead := nats.NewMsg(events.DLQSubject(durableSMS, events.OrderPlacedSubject(customer)))
	dead.Header.Set(natsjs.HeaderConsumer, durableSMS)
	dead.Header.Set(natsjs.HeaderReason, "permanent")
	dead.Header.Set(natsjs.HeaderError, "no phone")
	dead.Header.Set(natsjs.HeaderStream, events.StreamOrders)
	dead.Header.Set(natsjs.HeaderStreamSeq, fmt.Sprint(seq))
	dead.Data = []byte(`{"order_id":"` + order + `"}`)
	servicetest.MustPublish(t, e.js, dead)
	e.settle(t, durableSMS, true)
	e.publish(t, events.InventoryReservedSubject(customer), events.TypeInventoryReserved,
		events.InventoryReserved{OrderID: order, CustomerID: customer})
	e.publish(t, events.OrderConfirmedSubject(customer), events.TypeOrderConfirmed,
		events.OrderConfirmed{OrderID: order, CustomerID: customer})

	servicetest.WaitFor(t, 10*time.Second, "the journey without the receipt", func() (bool, string) {
		s := e.snapshot(t)
		if len(s.Orders) != 1 {
			return false, fmt.Sprint(s.Orders)
		}
		o := s.Orders[0]
		ok := o.Status == resultConfirmed && o.Placed != nil && o.Stock != nil && o.Stock.Result == resultReserved &&
			o.SMS != nil && o.SMS.Result == resultDeadLettered && o.Receipt == nil && o.Items == 2
		return ok, fmt.Sprintf("%+v", o)
	})
	s := e.snapshot(t)
	if body := fmt.Sprint(s); strings.Contains(body, "Ada") || strings.Contains(body, "ada@") {
		t.Errorf("snapshot holds personal data: %s", body)
	}
	e.settle(t, durableEmail, false)
	servicetest.WaitFor(t, 10*time.Second, "the receipt step", func() (bool, string) {
		o := e.snapshot(t).Orders[0]
		return o.Receipt != nil && o.Receipt.Result == resultSent, fmt.Sprintf("%+v", o.Receipt)
	})

	s = e.snapshot(t)
	if s.DeadLetterCount != 1 || len(s.DeadLetters) != 1 || s.DeadLetters[0].Consumer != durableSMS ||
		s.DeadLetters[0].Error != "no phone" {
		t.Errorf("dead letters = %d %+v, want the sms one", s.DeadLetterCount, s.DeadLetters)
	}
	var email *consumerView
	for i, c := range s.Consumers {
		if c.Name == durableEmail {
			email = &s.Consumers[i]
		}
	}
	if email == nil || !email.Paused || email.Stream != events.StreamOrders {
		t.Errorf("email consumer = %+v, want it paused (its service's orderbus_consumer_paused)", email)
	}
	if len(s.Services) != 2 || !s.Services[0].Up || s.Services[0].OutboxPending == nil || *s.Services[0].OutboxPending != 3 ||
		s.Services[1].Up {
		t.Errorf("services = %+v, want order up with 3 pending, gdpr down", s.Services)
	}
	if v, ok := e.console.Metric(t, `orderbus_jetstream_consumer_pending{consumer="email",stream="ORDERS"}`); !ok || v != 0 {
		t.Errorf("email's pending on /metrics = %v (%v), want 0", v, ok)
	}
	for _, c := range s.Consumers {
		if !strings.Contains("email sms", c.Name) {
			t.Errorf("consumer %q listed: only durables should be", c.Name)
		}
	}
}

func TestStreamPushesSnapshots(t *testing.T) {
	e := startEnv(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.console.URL+"/v1/stream", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type = %q", ct)
	}
	order, customer := uuid.NewString(), uuid.NewString()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	published := false
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var s snapshot
		if err := json.Unmarshal([]byte(data), &s); err != nil {
			t.Fatalf("event data: %v", err)
		}
		if !published { // the first snapshot comes at once; then an order
			e.publish(t, events.OrderPlacedSubject(customer), events.TypeOrderPlaced,
				events.OrderPlaced{OrderID: order, Customer: events.Customer{ID: customer}})
			published = true
			continue
		}
		if len(s.Orders) == 1 && s.Orders[0].OrderID == order {
			return
		}
	}
	t.Fatalf("no snapshot with the order before the stream ended: %v", sc.Err())
}

func TestRedriveNeedsTheDLQWriteRole(t *testing.T) {
	e := startEnv(t, nil)
	for _, tc := range []struct {
		name, header string
		want         int
	}{
		{name: "no header", header: "", want: 401},
		{name: "not a token", header: "Bearer nope", want: 401},
		{name: "customer token", header: "Bearer " + token(t), want: 403},
		{name: "operator without dlq:write", header: "Bearer " + token(t, auth.RoleOperatorRead), want: 403},
		{name: "dlq:write, no dead letter", header: "Bearer " + token(t, auth.RoleDLQWrite), want: 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.console.URL+"/v1/dead-letters/99/redrive", nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.want)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q, want problem+json", ct)
			}
		})
	}
}

// TestRedriveOffWithoutIdentity: a console given no redrive identity
// serves the page and answers a redrive 503, never trying it as the
// page's read-only identity.
func TestRedriveOffWithoutIdentity(t *testing.T) {
	e := startEnv(t, map[string]string{"CONSOLE_REDRIVE_NATS_USER": "", "CONSOLE_REDRIVE_NATS_PASSWORD": ""})
	req, _ := http.NewRequest(http.MethodPost, e.console.URL+"/v1/dead-letters/99/redrive", nil)
	req.Header.Set("Authorization", "Bearer "+token(t, auth.RoleDLQWrite))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "CONSOLE_REDRIVE_NATS_USER") {
		t.Errorf("redrive without a redrive identity = %d %s, want 503 naming CONSOLE_REDRIVE_NATS_USER", resp.StatusCode, body)
	}
}

func TestPageIsServed(t *testing.T) {
	e := startEnv(t, nil)
	for _, tc := range []struct{ path, want string }{
		{"/", `<table id="orders">`},
		{"/ui/console.js", "EventSource"},
		{"/ui/console.css", "table"},
	} {
		code, body := e.console.Get(tc.path)
		if code != http.StatusOK || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s = %d, want 200 with %q", tc.path, code, tc.want)
		}
	}
	servicetest.CheckProblem(t, newServer(natstest.Logger(t), serverDeps{registry: web.NewRegistry(), state: &state{}, hub: newHub()}),
		http.MethodGet, "/nope", http.StatusNotFound, "")
}
