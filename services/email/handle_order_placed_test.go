package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/orderbus/orderbus/pkg/dlq"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

const (
	seriesRetry     = `email_mails_total{kind="receipt",outcome="retry"}`
	seriesDuplicate = `email_mails_total{kind="receipt",outcome="duplicate"}`
	seriesFailed    = `email_mails_total{kind="receipt",outcome="failed"}`
)

func TestOrderPlacedSendsReceipt(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	ev, p := newOrderPlaced(t)
	e.publish(t, ev, p.Customer.ID)

	servicetest.WaitFor(t, 15*time.Second, "the receipt", func() (bool, string) {
		n := len(e.mails(t, ev.ID))
		return n > 0, fmt.Sprintf("%d mails", n)
	})
	e.settled(t, e.lastSeq(t))

	got := e.mails(t, ev.ID)
	if len(got) != 1 {
		t.Fatalf("got %d mails with the event's Message-ID, want 1", len(got))
	}
	m := got[0]
	if want := "<" + ev.ID + "@orderbus.example>"; "<"+strings.Trim(m.MessageID, "<>")+">" != want {
		t.Errorf("Message-ID = %q, want %q", m.MessageID, want)
	}
	if !slices.ContainsFunc(m.To, func(to string) bool { return strings.Contains(to, p.Customer.Email) }) {
		t.Errorf("To = %q, want the customer's address", m.To)
	}
	if to := m.Header("To"); !strings.Contains(to, "Ada Lovelace") {
		t.Errorf("To header = %q, want the customer's name", to)
	}
	if !strings.Contains(m.From, "orders@orderbus.example") {
		t.Errorf("From = %q, want MAIL_FROM", m.From)
	}
	if want := "Your orderbus order " + p.OrderID[:8] + " is received"; m.Subject != want {
		t.Errorf("Subject = %q, want %q", m.Subject, want)
	}
	if h := headerValues(m.Headers, "X-Order-Id"); !slices.Equal(h, []string{p.OrderID}) {
		t.Errorf("X-Order-Id = %q, want [%s]", h, p.OrderID)
	}
	for _, body := range []struct{ name, text string }{{"text", m.Text}, {"html", m.HTML}} {
		for _, want := range []string{"Ada Lovelace", p.OrderID, "SKU-TEA", "SKU-CUP", "3 items in total"} {
			if !strings.Contains(body.text, want) {
				t.Errorf("%s body lacks %q:\n%s", body.name, want, body.text)
			}
		}
	}

	rows := e.rows(t, ev.ID)
	if len(rows) != 1 || rows[0].Status != statusSent || rows[0].Attempts != 1 {
		t.Errorf("mails rows = %+v, want one sent row after 1 attempt", rows)
	}

	code, body := e.GetAs("/v1/mails?order_id="+p.OrderID, servicetest.Operator(t))
	if code != http.StatusOK {
		t.Fatalf("GET /v1/mails = %d %s", code, body)
	}
	var list struct{ Mails []map[string]any }
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	if len(list.Mails) != 1 {
		t.Fatalf("GET /v1/mails listed %d mails, want 1: %s", len(list.Mails), body)
	}
	rec := list.Mails[0]
	if rec["status"] != "sent" || rec["event_id"] != ev.ID || rec["kind"] != "receipt" ||
		rec["message_id"] != ev.ID+"@orderbus.example" || rec["sent_at"] == nil {
		t.Errorf("listed mail = %v", rec)
	}
	for _, key := range []string{"text", "html", "body"} {
		if _, ok := rec[key]; ok {
			t.Errorf("listed mail has a %q field; bodies must not be listed", key)
		}
	}
}

func TestListMailsRejectsBadOrderID(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	tests := []struct {
		name, query string
		want        int
	}{
		{name: "missing", query: "", want: http.StatusBadRequest},
		{name: "not a uuid", query: "?order_id=42", want: http.StatusBadRequest},
		{name: "unknown order", query: "?order_id=" + uuid.NewString(), want: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := e.GetAs("/v1/mails"+tt.query, servicetest.Operator(t))
			if code != tt.want {
				t.Errorf("GET /v1/mails%s = %d %s, want %d", tt.query, code, body, tt.want)
			}
			if code == http.StatusOK && !strings.Contains(body, `"mails":[]`) {
				t.Errorf("body = %s, want an empty list", body)
			}
		})
	}
}

func TestOrderPlacedDeliveredTwiceSendsOnce(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	ev, p := newOrderPlaced(t)
	subject := events.OrderPlacedSubject(p.Customer.ID)
	first := ev.Header()
	second := ev.Header() // same ce-id, but JetStream must not drop it
	second.Set(nats.MsgIdHdr, "copy-"+ev.ID)
	servicetest.MustPublish(t, e.js, &nats.Msg{Subject: subject, Header: first, Data: ev.Data})
	seq := servicetest.MustPublish(t, e.js, &nats.Msg{Subject: subject, Header: second, Data: ev.Data})

	e.settled(t, seq)
	servicetest.WaitFor(t, 5*time.Second, "the duplicate to be counted", func() (bool, string) {
		n := e.metric(t, seriesDuplicate)
		return n == 1, fmt.Sprintf("%v duplicates", n)
	})
	if n := len(e.mails(t, ev.ID)); n != 1 {
		t.Errorf("got %d mails, want 1", n)
	}
	if rows := e.rows(t, ev.ID); len(rows) != 1 || rows[0].Status != statusSent {
		t.Errorf("mails rows = %+v, want one sent row", rows)
	}
}

func TestOrderPlacedTemporarySMTPFailureRetried(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	e.setChaos(t, 451, 100)
	ev, p := newOrderPlaced(t)
	e.publish(t, ev, p.Customer.ID)

	servicetest.WaitFor(t, 15*time.Second, "retries on 451", func() (bool, string) {
		n := e.metric(t, seriesRetry)
		return n >= 2, fmt.Sprintf("%v retries", n)
	})
	if n := e.allMails(t); n != 0 {
		t.Fatalf("%d mails arrived while the server answered 451", n)
	}
	if rows := e.rows(t, ev.ID); len(rows) != 0 {
		t.Fatalf("mails rows = %+v during 4xx, want none", rows)
	}

	e.setChaos(t, 451, 0)
	servicetest.WaitFor(t, 15*time.Second, "the receipt after the 4xx ended", func() (bool, string) {
		n := len(e.mails(t, ev.ID))
		return n > 0, fmt.Sprintf("%d mails", n)
	})
	e.settled(t, e.lastSeq(t))
	if n := len(e.mails(t, ev.ID)); n != 1 {
		t.Errorf("got %d mails, want 1", n)
	}
	if rows := e.rows(t, ev.ID); len(rows) != 1 || rows[0].Status != statusSent || rows[0].Attempts < 3 {
		t.Errorf("mails rows = %+v, want one sent row after 3+ attempts", rows)
	}
	if n := len(e.dlq(t, events.OrderPlacedSubject(p.Customer.ID))); n != 0 {
		t.Errorf("%d DLQ messages, want none", n)
	}
}

func TestOrderPlacedPermanentSMTPFailureDeadLettered(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	e.setChaos(t, 550, 100)
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
		t.Fatalf("%d DLQ messages on %s, want 1", len(dead), events.DLQSubject(durableEmail, subject))
	}
	h := dead[0].Header
	if errText := h.Get("Orderbus-Error"); !strings.Contains(errText, "550") || strings.Contains(errText, p.Customer.Email) {
		t.Errorf("Orderbus-Error = %q, want the 550 reply without the address", errText)
	}
	if got := h.Get("Orderbus-Consumer"); got != durableEmail {
		t.Errorf("Orderbus-Consumer = %q", got)
	}
	if got := h.Get("ce-id"); got != ev.ID {
		t.Errorf("dead letter ce-id = %q, want %q", got, ev.ID)
	}
	rows := e.rows(t, ev.ID)
	if len(rows) != 1 || rows[0].Status != statusFailed || !strings.Contains(rows[0].Error, "550") {
		t.Errorf("mails rows = %+v, want one failed row with the 550 reply", rows)
	}
	if n := e.allMails(t); n != 0 {
		t.Errorf("%d mails arrived despite the 550", n)
	}
	if n := e.metric(t, seriesFailed); n != 1 {
		t.Errorf("failed mails metric = %v, want 1", n)
	}
}

func TestOrderPlacedWhileSMTPDownSentOnceItIsBack(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	// A first mail leaves a pooled connection that the outage breaks.
	warm, wp := newOrderPlaced(t)
	e.publish(t, warm, wp.Customer.ID)
	servicetest.WaitFor(t, 15*time.Second, "the first receipt", func() (bool, string) {
		n := len(e.mails(t, warm.ID))
		return n > 0, fmt.Sprintf("%d mails", n)
	})

	ctx := t.Context()
	if err := e.mailpit.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	ev, p := newOrderPlaced(t)
	e.publish(t, ev, p.Customer.ID)
	servicetest.WaitFor(t, 15*time.Second, "retries while SMTP is down", func() (bool, string) {
		n := e.metric(t, seriesRetry)
		return n >= 2, fmt.Sprintf("%v retries", n)
	})
	if err := e.mailpit.Start(ctx); err != nil {
		t.Fatal(err)
	}

	servicetest.WaitFor(t, 15*time.Second, "the receipt after SMTP came back", func() (bool, string) {
		n := len(e.mails(t, ev.ID))
		return n > 0, fmt.Sprintf("%d mails", n)
	})
	e.settled(t, e.lastSeq(t))
	for _, id := range []string{warm.ID, ev.ID} {
		if n := len(e.mails(t, id)); n != 1 {
			t.Errorf("event %s: got %d mails, want 1", id, n)
		}
		if rows := e.rows(t, id); len(rows) != 1 || rows[0].Status != statusSent {
			t.Errorf("event %s: mails rows = %+v, want one sent row", id, rows)
		}
	}
}

// headerValues returns the values of a header, matching its name in any case.
func headerValues(h map[string][]string, name string) []string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

func TestOrderPlacedRefusedMailSentOnceRedriven(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	e.setChaos(t, 550, 100)
	ev, p := newOrderPlaced(t)
	subject := events.OrderPlacedSubject(p.Customer.ID)
	e.publish(t, ev, p.Customer.ID)
	servicetest.WaitFor(t, 15*time.Second, "the dead letter", func() (bool, string) {
		n := len(e.dlq(t, subject))
		return n > 0, fmt.Sprintf("%d DLQ messages", n)
	})

	e.setChaos(t, 550, 0) // the cause is fixed
	d, err := dlq.Open(t.Context(), e.js)
	if err != nil {
		t.Fatal(err)
	}
	results, err := d.RedriveMatching(t.Context(), dlq.MustParseFilter("consumer="+durableEmail), dlq.RedriveOptions{Wait: 15 * time.Second})
	if err != nil {
		t.Fatalf("redrive: %v (%+v)", err, results)
	}
	if len(results) != 1 {
		t.Fatalf("redrove %d dead letters, want 1", len(results))
	}
	servicetest.WaitFor(t, 15*time.Second, "the receipt", func() (bool, string) {
		n := len(e.mails(t, ev.ID))
		return n > 0, fmt.Sprintf("%d mails", n)
	})
	if n := len(e.mails(t, ev.ID)); n != 1 {
		t.Errorf("%d receipts arrived, want 1", n)
	}
	if rows := e.rows(t, ev.ID); len(rows) != 1 || rows[0].Status != statusSent || rows[0].Attempts != 2 {
		t.Errorf("mails rows = %+v, want one sent row after 2 attempts", rows)
	}
	if n := len(e.dlq(t, subject)); n != 0 {
		t.Errorf("%d DLQ messages after the redrive, want none", n)
	}
}
