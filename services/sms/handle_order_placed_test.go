package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/orderbus/orderbus/pkg/dlq"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

func TestOrderPlacedSendsSMS(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	ev, p := newOrderPlaced(t)
	e.publish(t, ev, p.Customer.ID)

	servicetest.WaitFor(t, 15*time.Second, "the message record", func() (bool, string) {
		n := len(e.rows(t, ev.ID))
		return n > 0, fmt.Sprintf("%d rows", n)
	})
	e.settled(t, e.lastSeq(t))

	rows := e.rows(t, ev.ID)
	wantBody := "Order " + p.OrderID + " received, 3 items"
	if len(rows) != 1 {
		t.Fatalf("got %d messages rows, want 1", len(rows))
	}
	if r := rows[0]; r.Status != statusSent || r.Provider != "log" || r.ProviderID != "log-"+ev.ID ||
		r.To != p.Customer.Phone || r.CustomerID != p.Customer.ID || r.Body != wantBody ||
		r.Attempts != 1 || r.SentAt == nil {
		t.Errorf("messages row = %+v, want one sent by the log provider to the customer with %q", r, wantBody)
	}
	if n := e.metric(t, series("log", outcomeSent)); n != 1 {
		t.Errorf("sent metric = %v, want 1", n)
	}

	code, body := e.GetAs("/v1/messages?to="+url.QueryEscape(p.Customer.Phone), servicetest.Operator(t))
	if code != http.StatusOK {
		t.Fatalf("GET /v1/messages = %d %s", code, body)
	}
	var list struct{ Messages []map[string]any }
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	if len(list.Messages) != 1 {
		t.Fatalf("GET /v1/messages listed %d messages, want 1: %s", len(list.Messages), body)
	}
	m := list.Messages[0]
	if m["event_id"] != ev.ID || m["order_id"] != p.OrderID || m["customer_id"] != p.Customer.ID ||
		m["to"] != p.Customer.Phone || m["body"] != wantBody || m["provider"] != "log" ||
		m["status"] != "sent" || m["sent_at"] == nil {
		t.Errorf("listed message = %v", m)
	}

	logs := e.Logs()
	if strings.Contains(logs, p.Customer.Phone) {
		t.Errorf("the logs show the phone number %s", p.Customer.Phone)
	}
	if !strings.Contains(logs, maskPhone(p.Customer.Phone)) {
		t.Errorf("the log provider did not log the masked number %s", maskPhone(p.Customer.Phone))
	}
}

func TestOrderPlacedDeliveredTwiceSendsOnce(t *testing.T) {
	t.Parallel()
	e, hook := startWebhookEnv(t)
	ev, p := newOrderPlaced(t)
	subject := events.OrderPlacedSubject(p.Customer.ID)
	first := ev.Header()
	second := ev.Header() // same ce-id, but JetStream must not drop it
	second.Set(nats.MsgIdHdr, "copy-"+ev.ID)
	servicetest.MustPublish(t, e.js, &nats.Msg{Subject: subject, Header: first, Data: ev.Data})
	seq := servicetest.MustPublish(t, e.js, &nats.Msg{Subject: subject, Header: second, Data: ev.Data})

	e.settled(t, seq)
	servicetest.WaitFor(t, 5*time.Second, "the duplicate to be counted", func() (bool, string) {
		n := e.metric(t, series("webhook", outcomeDuplicate))
		return n == 1, fmt.Sprintf("%v duplicates", n)
	})
	if n := len(hook.requests()); n != 1 {
		t.Errorf("the webhook was called %d times, want 1", n)
	}
	if rows := e.rows(t, ev.ID); len(rows) != 1 || rows[0].Status != statusSent || rows[0].ProviderID != "hook-0" {
		t.Errorf("messages rows = %+v, want one sent row with the webhook's id", rows)
	}
}

func TestOrderPlacedWebhookUnavailableRetried(t *testing.T) {
	t.Parallel()
	e, hook := startWebhookEnv(t, http.StatusServiceUnavailable, http.StatusOK)
	ev, p := newOrderPlaced(t)
	e.publish(t, ev, p.Customer.ID)

	servicetest.WaitFor(t, 15*time.Second, "the message record", func() (bool, string) {
		n := len(e.rows(t, ev.ID))
		return n > 0, fmt.Sprintf("%d rows", n)
	})
	e.settled(t, e.lastSeq(t))

	calls := hook.requests()
	if len(calls) != 2 {
		t.Fatalf("the webhook was called %d times, want 2 (503, then 200)", len(calls))
	}
	for i, c := range calls {
		if got := c.Header.Get("Idempotency-Key"); got != ev.ID {
			t.Errorf("call %d: Idempotency-Key = %q, want the event id %s", i, got, ev.ID)
		}
		if c.Method != http.MethodPost || c.Path != "/sms" || c.Header.Get("Content-Type") != "application/json" {
			t.Errorf("call %d: %s %s (%s), want a JSON POST to /sms", i, c.Method, c.Path, c.Header.Get("Content-Type"))
		}
		want := map[string]any{"to": p.Customer.Phone, "body": "Order " + p.OrderID + " received, 3 items",
			"order_id": p.OrderID, "event_id": ev.ID}
		if fmt.Sprint(c.Body) != fmt.Sprint(want) {
			t.Errorf("call %d: body %s, want %v", i, c.Raw, want)
		}
	}
	rows := e.rows(t, ev.ID)
	if len(rows) != 1 || rows[0].Status != statusSent || rows[0].Attempts != 2 || rows[0].ProviderID != "hook-1" {
		t.Errorf("messages rows = %+v, want one sent row after 2 attempts with id hook-1", rows)
	}
	if n := e.metric(t, series("webhook", outcomeRetry)); n != 1 {
		t.Errorf("retry metric = %v, want 1", n)
	}
	if n := len(e.dlq(t, events.OrderPlacedSubject(p.Customer.ID))); n != 0 {
		t.Errorf("%d DLQ messages, want none", n)
	}
}

func TestOrderPlacedWebhookRefusalDeadLettered(t *testing.T) {
	t.Parallel()
	e, hook := startWebhookEnv(t, http.StatusBadRequest)
	ev, p := newOrderPlaced(t)
	subject := events.OrderPlacedSubject(p.Customer.ID)
	e.publish(t, ev, p.Customer.ID)

	servicetest.WaitFor(t, 15*time.Second, "the dead letter", func() (bool, string) {
		n := len(e.dlq(t, subject))
		return n > 0, fmt.Sprintf("%d DLQ messages", n)
	})
	e.settled(t, e.lastSeq(t))

	dead := e.dlq(t, subject)
	if len(dead) != 1 {
		t.Fatalf("%d DLQ messages on %s, want 1", len(dead), events.DLQSubject(durableSMS, subject))
	}
	if want := "dlq.sms.orders.placed." + p.Customer.ID; dead[0].Subject != want {
		t.Errorf("dead letter subject = %q, want %q", dead[0].Subject, want)
	}
	h := dead[0].Header
	if errText := h.Get("Orderbus-Error"); !strings.Contains(errText, "400") || strings.Contains(errText, p.Customer.Phone) {
		t.Errorf("Orderbus-Error = %q, want the 400 answer without the number", errText)
	}
	if got := h.Get("Orderbus-Reason"); got != "permanent" {
		t.Errorf("Orderbus-Reason = %q, want permanent", got)
	}
	if got := h.Get("ce-id"); got != ev.ID {
		t.Errorf("dead letter ce-id = %q, want %q", got, ev.ID)
	}
	rows := e.rows(t, ev.ID)
	if len(rows) != 1 || rows[0].Status != statusFailed || !strings.Contains(rows[0].Error, "400") ||
		rows[0].ProviderID != "" || rows[0].SentAt != nil || strings.Contains(rows[0].Error, p.Customer.Phone) {
		t.Errorf("messages rows = %+v, want one failed row with the 400 answer, number masked", rows)
	}
	if n := len(hook.requests()); n != 1 {
		t.Errorf("the webhook was called %d times, want 1", n)
	}
	if n := e.metric(t, series("webhook", outcomeFailed)); n != 1 {
		t.Errorf("failed metric = %v, want 1", n)
	}
	if strings.Contains(e.Logs(), p.Customer.Phone) {
		t.Errorf("the logs show the phone number %s", p.Customer.Phone)
	}
}

func TestOrderPlacedRefusedSMSSentOnceRedriven(t *testing.T) {
	t.Parallel()
	e, hook := startWebhookEnv(t, http.StatusBadRequest, http.StatusOK)
	ev, p := newOrderPlaced(t)
	subject := events.OrderPlacedSubject(p.Customer.ID)
	e.publish(t, ev, p.Customer.ID)
	servicetest.WaitFor(t, 15*time.Second, "the dead letter", func() (bool, string) {
		n := len(e.dlq(t, subject))
		return n > 0, fmt.Sprintf("%d DLQ messages", n)
	})

	d, err := dlq.Open(t.Context(), e.js)
	if err != nil {
		t.Fatal(err)
	}
	results, err := d.RedriveMatching(t.Context(), dlq.MustParseFilter("consumer="+durableSMS), dlq.RedriveOptions{Wait: 15 * time.Second})
	if err != nil || len(results) != 1 {
		t.Fatalf("redrive: %v (%+v), want one dead letter redriven", err, results)
	}
	rows := e.rows(t, ev.ID)
	if len(rows) != 1 || rows[0].Status != statusSent || rows[0].Attempts != 2 || rows[0].ProviderID != "hook-1" {
		t.Errorf("messages rows = %+v, want one sent row after 2 attempts, provider id hook-1", rows)
	}
	if n := len(hook.requests()); n != 2 {
		t.Errorf("the webhook was called %d times, want 2 (refused, then sent on redrive)", n)
	}
	if n := len(e.dlq(t, subject)); n != 0 {
		t.Errorf("%d DLQ messages after the redrive, want none", n)
	}
}
