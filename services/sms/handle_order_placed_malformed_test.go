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
	e, hook := startWebhookEnv(t)
	tests := []struct {
		name string
		edit func(h nats.Header, p *events.OrderPlaced) []byte // returns the body; nil = encode p
	}{
		{name: "payload of the wrong shape",
			edit: func(nats.Header, *events.OrderPlaced) []byte { return []byte(`{"order_id": 42}`) }},
		{name: "customer id not a uuid",
			edit: func(_ nats.Header, p *events.OrderPlaced) []byte { p.Customer.ID = "c-1"; return nil }},
		{name: "customer id in upper case",
			edit: func(_ nats.Header, p *events.OrderPlaced) []byte {
				p.Customer.ID = strings.ToUpper(p.Customer.ID)
				return nil
			}},
		{name: "phone not E.164",
			edit: func(_ nats.Header, p *events.OrderPlaced) []byte { p.Customer.Phone = "07700 900961"; return nil }},
		{name: "no items",
			edit: func(_ nats.Header, p *events.OrderPlaced) []byte { p.Items = nil; return nil }},
		{name: "unknown event type",
			edit: func(h nats.Header, _ *events.OrderPlaced) []byte {
				h.Set("ce-type", "orderbus.order.placed.v9")
				return nil
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev, p := newOrderPlaced(t)
			subject := events.OrderPlacedSubject(p.Customer.ID) // before edit: the id may become invalid
			h := ev.Header()
			body := tt.edit(h, &p)
			if body == nil {
				var err error
				if body, err = json.Marshal(p); err != nil {
					t.Fatal(err)
				}
			}
			servicetest.MustPublish(t, e.js, &nats.Msg{Subject: subject, Header: h, Data: body})

			servicetest.WaitFor(t, 15*time.Second, "the dead letter", func() (bool, string) {
				n := len(e.dlq(t, subject))
				return n > 0, fmt.Sprintf("%d DLQ messages", n)
			})
			dead := e.dlq(t, subject)
			if len(dead) != 1 {
				t.Fatalf("%d DLQ messages, want 1", len(dead))
			}
			if got := dead[0].Header.Get("Orderbus-Reason"); got != "permanent" {
				t.Errorf("Orderbus-Reason = %q, want permanent (error %q)", got, dead[0].Header.Get("Orderbus-Error"))
			}
			if rows := e.rows(t, ev.ID); len(rows) != 0 {
				t.Errorf("messages rows = %+v, want none", rows)
			}
		})
	}
	t.Cleanup(func() {
		if n := len(hook.requests()); n != 0 {
			t.Errorf("the webhook was called %d times for malformed events", n)
		}
	})
}
