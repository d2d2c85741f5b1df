package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

func TestOrderPlacedMalformedDeadLettered(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	valid := func() (events.Event, events.OrderPlaced) { return newOrderPlaced(t) }
	tests := []struct {
		name   string
		edit   func(h nats.Header, p *events.OrderPlaced) []byte // returns the body; nil = encode p
		reason string
	}{
		{name: "payload of the wrong shape", reason: "permanent",
			edit: func(nats.Header, *events.OrderPlaced) []byte { return []byte(`{"order_id": 42}`) }},
		{name: "order id not a uuid", reason: "permanent",
			edit: func(_ nats.Header, p *events.OrderPlaced) []byte { p.OrderID = "order-1"; return nil }},
		{name: "order id in upper case", reason: "permanent",
			edit: func(_ nats.Header, p *events.OrderPlaced) []byte { p.OrderID = strings.ToUpper(p.OrderID); return nil }},
		{name: "order id as a urn", reason: "permanent",
			edit: func(_ nats.Header, p *events.OrderPlaced) []byte { p.OrderID = "urn:uuid:" + p.OrderID; return nil }},
		{name: "customer without email", reason: "permanent",
			edit: func(_ nats.Header, p *events.OrderPlaced) []byte { p.Customer.Email = ""; return nil }},
		{name: "email with a display name", reason: "permanent",
			edit: func(_ nats.Header, p *events.OrderPlaced) []byte {
				p.Customer.Email = "Eve <eve@example.com>"
				return nil
			}},
		{name: "unknown event type", reason: "permanent",
			edit: func(h nats.Header, _ *events.OrderPlaced) []byte {
				h.Set("ce-type", "orderbus.order.placed.v9")
				return nil
			}},
		{name: "not a cloudevent", reason: "malformed",
			edit: func(h nats.Header, _ *events.OrderPlaced) []byte { h.Del("ce-specversion"); return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev, p := valid()
			h := ev.Header()
			body := tt.edit(h, &p)
			if body == nil {
				var err error
				if body, err = json.Marshal(p); err != nil {
					t.Fatal(err)
				}
			}
			subject := events.OrderPlacedSubject(p.Customer.ID)
			servicetest.MustPublish(t, e.js, &nats.Msg{Subject: subject, Header: h, Data: body})

			servicetest.WaitFor(t, 15*time.Second, "the dead letter", func() (bool, string) {
				n := len(e.dlq(t, subject))
				return n > 0, fmt.Sprintf("%d DLQ messages", n)
			})
			dead := e.dlq(t, subject)
			if len(dead) != 1 {
				t.Fatalf("%d DLQ messages, want 1", len(dead))
			}
			if got := dead[0].Header.Get("Orderbus-Reason"); got != tt.reason {
				t.Errorf("Orderbus-Reason = %q, want %q (error %q)", got, tt.reason, dead[0].Header.Get("Orderbus-Error"))
			}
			if string(dead[0].Data) != string(body) {
				t.Errorf("dead letter body = %s, want the original %s", dead[0].Data, body)
			}
			if rows := e.rows(t, ev.ID); len(rows) != 0 {
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
