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
	sku := newSKU("M")
	e.setStock(t, sku, 10)
	tests := []struct {
		name   string
		edit   func(h nats.Header, p *events.OrderPlaced) []byte // returns the body; nil = encode p
		reason string
	}{
		{name: "payload of the wrong shape", reason: "permanent",
			edit: func(nats.Header, *events.OrderPlaced) []byte { return []byte(`{"order_id": 42}`) }},
		{name: "order id not a uuid", reason: "permanent",
			edit: func(_ nats.Header, p *events.OrderPlaced) []byte { p.OrderID = "order-1"; return nil }},
		{name: "customer id in upper case", reason: "permanent",
			edit: func(_ nats.Header, p *events.OrderPlaced) []byte {
				p.Customer.ID = strings.ToUpper(p.Customer.ID)
				return nil
			}},
		{name: "no items", reason: "permanent",
			edit: func(_ nats.Header, p *events.OrderPlaced) []byte { p.Items = nil; return nil }},
		{name: "quantity zero", reason: "permanent",
			edit: func(_ nats.Header, p *events.OrderPlaced) []byte { p.Items[0].Quantity = 0; return nil }},
		{name: "negative quantity", reason: "permanent",
			edit: func(_ nats.Header, p *events.OrderPlaced) []byte {
				p.Items = append(p.Items, events.Item{SKU: "MUG-WHITE", Quantity: -5})
				return nil
			}},
		{name: "item without sku", reason: "permanent",
			edit: func(_ nats.Header, p *events.OrderPlaced) []byte { p.Items[0].SKU = ""; return nil }},
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
			ev, p := newOrderPlaced(t, events.Item{SKU: sku, Quantity: 1})
			orderID := p.OrderID
			h := ev.Header()
			body := tt.edit(h, &p)
			if body == nil {
				var err error
				if body, err = json.Marshal(p); err != nil {
					t.Fatal(err)
				}
			}
			subject := events.OrderPlacedSubject(p.Customer.ID)
			if _, err := servicetest.Publish(e.js, &nats.Msg{Subject: subject, Header: h, Data: body}); err != nil {
				t.Fatal(err)
			}

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
			if r := e.reservation(t, orderID); r != nil {
				t.Errorf("reservation = %+v, want none", r)
			}
		})
	}
	t.Cleanup(func() {
		if n := e.level(t, sku); n != 10 {
			t.Errorf("stock = %d after malformed events, want 10", n)
		}
		if n := e.level(t, "MUG-WHITE"); n != 200 {
			t.Errorf("stock of MUG-WHITE = %d after a negative quantity, want 200", n)
		}
		if n := e.results(t, "inventory.>"); len(n) != 0 {
			t.Errorf("INVENTORY messages %v for malformed events, want none", n)
		}
		if n := e.count(t, "outbox"); n != 0 {
			t.Errorf("outbox holds %d rows, want none", n)
		}
	})
}
