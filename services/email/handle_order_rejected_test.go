package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

// newOrderRejected returns an order rejected event for the order placed
// as p, missing the given SKUs.
func newOrderRejected(t *testing.T, p events.OrderPlaced, missing ...string) events.Event {
	t.Helper()
	ev, err := events.New("/orderbus/order", events.TypeOrderRejected, p.OrderID, events.OrderRejected{
		OrderID: p.OrderID, Customer: p.Customer, MissingSKUs: missing, RejectedAt: time.Now().UTC(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestOrderRejectedSendsApology(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	_, p := newOrderPlaced(t)
	ev := newOrderRejected(t, p, "SKU-TEA", "SKU-CUP")
	servicetest.MustPublish(t, e.js, &nats.Msg{Subject: events.OrderRejectedSubject(p.Customer.ID), Header: ev.Header(), Data: ev.Data})

	servicetest.WaitFor(t, 15*time.Second, "the apology", func() (bool, string) {
		n := len(e.mails(t, ev.ID))
		return n > 0, fmt.Sprintf("%d mails", n)
	})
	e.settled(t, e.lastSeq(t))

	got := e.mails(t, ev.ID)
	if len(got) != 1 {
		t.Fatalf("got %d mails with the event's Message-ID, want 1", len(got))
	}
	m := got[0]
	if !slices.ContainsFunc(m.To, func(to string) bool { return strings.Contains(to, p.Customer.Email) }) {
		t.Errorf("To = %q, want the customer's address", m.To)
	}
	if want := "Sorry, your orderbus order " + p.OrderID[:8] + " could not be fulfilled"; m.Subject != want {
		t.Errorf("Subject = %q, want %q", m.Subject, want)
	}
	if h := headerValues(m.Headers, "X-Order-Id"); !slices.Equal(h, []string{p.OrderID}) {
		t.Errorf("X-Order-Id = %q, want [%s]", h, p.OrderID)
	}
	for _, body := range []struct{ name, text string }{{"text", m.Text}, {"html", m.HTML}} {
		for _, want := range []string{"Ada Lovelace", p.OrderID, "SKU-TEA", "SKU-CUP", "out of stock"} {
			if !strings.Contains(body.text, want) {
				t.Errorf("%s body lacks %q:\n%s", body.name, want, body.text)
			}
		}
	}
	rows := e.rows(t, ev.ID)
	if len(rows) != 1 || rows[0].Status != statusSent || rows[0].MessageID != ev.ID+"@orderbus.example" {
		t.Errorf("mails rows = %+v, want one sent row with the event's Message-ID", rows)
	}
	if n := e.metric(t, `email_mails_total{kind="apology",outcome="sent"}`); n != 1 {
		t.Errorf("sent apologies metric = %v, want 1", n)
	}
}

func TestOrderRejectedDeliveredTwiceSendsOnce(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	_, p := newOrderPlaced(t)
	ev := newOrderRejected(t, p, "SKU-TEA")
	subject := events.OrderRejectedSubject(p.Customer.ID)
	second := ev.Header() // same ce-id, but JetStream must not drop it
	second.Set(nats.MsgIdHdr, "copy-"+ev.ID)
	servicetest.MustPublish(t, e.js, &nats.Msg{Subject: subject, Header: ev.Header(), Data: ev.Data})
	seq := servicetest.MustPublish(t, e.js, &nats.Msg{Subject: subject, Header: second, Data: ev.Data})

	e.settled(t, seq)
	servicetest.WaitFor(t, 5*time.Second, "the duplicate to be counted", func() (bool, string) {
		n := e.metric(t, `email_mails_total{kind="apology",outcome="duplicate"}`)
		return n == 1, fmt.Sprintf("%v duplicates", n)
	})
	if n := len(e.mails(t, ev.ID)); n != 1 {
		t.Errorf("got %d mails, want 1", n)
	}
	if rows := e.rows(t, ev.ID); len(rows) != 1 || rows[0].Status != statusSent {
		t.Errorf("mails rows = %+v, want one sent row", rows)
	}
}

func TestReceiptAndApologyForOneOrder(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	placed, p := newOrderPlaced(t)
	rejected := newOrderRejected(t, p, "SKU-CUP")
	e.publish(t, placed, p.Customer.ID)
	servicetest.MustPublish(t, e.js, &nats.Msg{Subject: events.OrderRejectedSubject(p.Customer.ID), Header: rejected.Header(), Data: rejected.Data})

	servicetest.WaitFor(t, 15*time.Second, "the receipt and the apology", func() (bool, string) {
		r, a := len(e.mails(t, placed.ID)), len(e.mails(t, rejected.ID))
		return r > 0 && a > 0, fmt.Sprintf("%d receipts, %d apologies", r, a)
	})
	e.settled(t, e.lastSeq(t))
	if n := e.allMails(t); n != 2 {
		t.Errorf("Mailpit holds %d mails, want the receipt and the apology", n)
	}
	for _, m := range append(e.mails(t, placed.ID), e.mails(t, rejected.ID)...) {
		if h := headerValues(m.Headers, "X-Order-Id"); !slices.Equal(h, []string{p.OrderID}) {
			t.Errorf("mail %q: X-Order-Id = %q, want [%s]", m.Subject, h, p.OrderID)
		}
	}

	code, body := e.GetAs("/v1/mails?order_id="+p.OrderID, servicetest.Operator(t))
	if code != http.StatusOK {
		t.Fatalf("GET /v1/mails = %d %s", code, body)
	}
	for _, want := range []string{`"kind":"receipt"`, `"kind":"apology"`, placed.ID, rejected.ID} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /v1/mails lacks %s: %s", want, body)
		}
	}
}

func TestOrderRejectedMalformedDeadLettered(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	tests := []struct {
		name string
		edit func(r *events.OrderRejected)
	}{
		{name: "customer without email", edit: func(r *events.OrderRejected) { r.Customer.Email = "" }},
		{name: "order id not a uuid", edit: func(r *events.OrderRejected) { r.OrderID = "order-1" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, p := newOrderPlaced(t)
			ev := newOrderRejected(t, p, "SKU-TEA")
			var r events.OrderRejected
			if err := ev.Decode(&r); err != nil {
				t.Fatal(err)
			}
			tt.edit(&r)
			bad, err := events.New(ev.Source, ev.Type, ev.Subject, r)
			if err != nil {
				t.Fatal(err)
			}
			subject := events.OrderRejectedSubject(p.Customer.ID)
			servicetest.MustPublish(t, e.js, &nats.Msg{Subject: subject, Header: bad.Header(), Data: bad.Data})

			servicetest.WaitFor(t, 15*time.Second, "the dead letter", func() (bool, string) {
				n := len(e.dlq(t, subject))
				return n > 0, fmt.Sprintf("%d DLQ messages", n)
			})
			if dead := e.dlq(t, subject); len(dead) != 1 || dead[0].Header.Get("Orderbus-Reason") != "permanent" {
				t.Errorf("%d DLQ messages (want 1, permanent)", len(dead))
			}
			if rows := e.rows(t, bad.ID); len(rows) != 0 {
				t.Errorf("mails rows = %+v, want none", rows)
			}
		})
	}
	t.Cleanup(func() {
		if n := e.allMails(t); n != 0 {
			t.Errorf("%d mails sent for malformed events", n)
		}
	})
}
