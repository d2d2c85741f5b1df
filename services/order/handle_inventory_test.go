package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

// Deliveries of inventory results in TestInventoryResultsChangeStatus.
const (
	deliverReserved = "reserved" // a new inventory reserved event
	deliverRejected = "rejected" // a new inventory rejected event, missing SKU-2 and SKU-3
	deliverAgain    = "again"    // the previous event once more, at once, under another Nats-Msg-Id
)

func TestInventoryResultsChangeStatus(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	missing := []string{"SKU-2", "SKU-3"}
	tests := []struct {
		name          string
		deliveries    []string
		wantStatus    string
		wantConfirmed int // messages on orders.confirmed.<customer>
		wantRejected  int // messages on orders.rejected.<customer>
	}{
		{"reserved confirms", []string{deliverReserved}, "confirmed", 1, 0},
		{"rejected rejects", []string{deliverRejected}, "rejected", 0, 1},
		{"reserved twice changes once", []string{deliverReserved, deliverAgain}, "confirmed", 1, 0},
		{"rejected twice changes once", []string{deliverRejected, deliverAgain}, "rejected", 0, 1},
		{"reserved after rejected stays rejected", []string{deliverRejected, deliverReserved}, "rejected", 0, 1},
		{"rejected after reserved stays confirmed", []string{deliverReserved, deliverRejected}, "confirmed", 1, 0},
	}
	t.Run("cases", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				customer := uuid.NewString()
				orderID := e.placeOrder(t, customer, "SKU-1", "SKU-2", "SKU-3")
				var ids []string
				var last *nats.Msg
				for i, d := range tt.deliveries {
					var subject string
					var ev events.Event
					switch d {
					case deliverReserved:
						subject, ev = inventoryReserved(t, orderID, customer)
					case deliverRejected:
						subject, ev = inventoryRejected(t, orderID, customer, missing...)
					case deliverAgain:
						again := &nats.Msg{Subject: last.Subject, Header: nats.Header{}, Data: last.Data}
						for k, v := range last.Header {
							again.Header[k] = v
						}
						again.Header.Set(nats.MsgIdHdr, "again-"+ids[len(ids)-1])
						e.settled(t, servicetest.MustPublish(t, e.js, again))
						continue
					}
					ids = append(ids, ev.ID)
					last = &nats.Msg{Subject: subject, Header: ev.Header(), Data: ev.Data}
					seq := servicetest.MustPublish(t, e.js, last)
					if i+1 < len(tt.deliveries) && tt.deliveries[i+1] == deliverAgain {
						continue // the copy goes out while the first is handled
					}
					e.settled(t, seq)
				}

				o := e.getOrder(t, orderID)
				if o.Status != tt.wantStatus {
					t.Errorf("status = %q, want %q", o.Status, tt.wantStatus)
				}
				var statuses []string
				for _, h := range o.History {
					statuses = append(statuses, h.Status)
				}
				if want := []string{"pending", tt.wantStatus}; !slices.Equal(statuses, want) {
					t.Fatalf("history = %+v, want statuses %v", o.History, want)
				}
				step := o.History[1]
				if !step.At.Equal(o.UpdatedAt) || !step.At.After(o.CreatedAt) {
					t.Errorf("%s at %s, updated_at %s, created_at %s: want at = updated_at, after created_at",
						step.Status, step.At, o.UpdatedAt, o.CreatedAt)
				}
				switch tt.wantStatus {
				case "confirmed":
					if step.Note != noteReserved {
						t.Errorf("note = %q, want %q", step.Note, noteReserved)
					}
				case "rejected":
					for _, sku := range missing {
						if !strings.Contains(step.Note, sku) {
							t.Errorf("note = %q, want it to name %s", step.Note, sku)
						}
					}
				}

				confirmed := servicetest.StreamMsgs(t, e.js, events.StreamOrders, events.OrderConfirmedSubject(customer))
				rejected := servicetest.StreamMsgs(t, e.js, events.StreamOrders, events.OrderRejectedSubject(customer))
				if len(confirmed) != tt.wantConfirmed || len(rejected) != tt.wantRejected {
					t.Fatalf("%d orders.confirmed and %d orders.rejected messages, want %d and %d",
						len(confirmed), len(rejected), tt.wantConfirmed, tt.wantRejected)
				}
				for _, m := range append(confirmed, rejected...) {
					ev, err := events.Parse(m.Header, m.Data)
					if err != nil {
						t.Fatalf("parse %s: %v", m.Subject, err)
					}
					if ev.Source != eventSource || ev.Subject != orderID || m.Header.Get("Nats-Msg-Id") != ev.ID {
						t.Errorf("event on %s: source %q, subject %q, Nats-Msg-Id %q; want %s, the order id, the event id",
							m.Subject, ev.Source, ev.Subject, m.Header.Get("Nats-Msg-Id"), eventSource)
					}
					checkAnnouncement(t, ev, orderID, customer, step.At, missing)
				}

				var recorded int
				err := e.db.QueryRow(context.Background(),
					`SELECT count(*) FROM inbox WHERE consumer = $1 AND message_id = ANY($2)`, durableOrderInventory, ids).Scan(&recorded)
				if err != nil || recorded != len(ids) {
					t.Errorf("inbox holds %d of the %d events (err %v)", recorded, len(ids), err)
				}
			})
		}
	})

	for series, want := range map[string]int{
		`orders_inventory_results_total{outcome="applied",result="reserved"}`:   3,
		`orders_inventory_results_total{outcome="applied",result="rejected"}`:   3,
		`orders_inventory_results_total{outcome="duplicate",result="reserved"}`: 1,
		`orders_inventory_results_total{outcome="duplicate",result="rejected"}`: 1,
		`orders_inventory_results_total{outcome="ignored",result="reserved"}`:   1,
		`orders_inventory_results_total{outcome="ignored",result="rejected"}`:   1,
	} {
		if got := e.metric(t, series); got != want {
			t.Errorf("%s = %d, want %d", series, got, want)
		}
	}
	logs := e.Logs()
	for _, personal := range []string{"ada@example.com", "+441234567890", "Lovelace"} {
		if strings.Contains(logs, personal) {
			t.Errorf("service log contains personal data %q", personal)
		}
	}
}

// checkAnnouncement checks the payload of an orders.confirmed or
// orders.rejected event for the order.
func checkAnnouncement(t *testing.T, ev events.Event, orderID, customer string, at time.Time, missing []string) {
	t.Helper()
	switch ev.Type {
	case events.TypeOrderConfirmed:
		var p events.OrderConfirmed
		if err := ev.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if p.OrderID != orderID || p.CustomerID != customer || !p.ConfirmedAt.Equal(at) {
			t.Errorf("order confirmed = %+v, want order %s, customer %s, at %s", p, orderID, customer, at)
		}
	case events.TypeOrderRejected:
		var p events.OrderRejected
		if err := ev.Decode(&p); err != nil {
			t.Fatal(err)
		}
		wantCustomer := events.Customer{ID: customer, Name: "Ada Lovelace", Email: "ada@example.com", Phone: "+441234567890"}
		if p.OrderID != orderID || p.Customer != wantCustomer || !slices.Equal(p.MissingSKUs, missing) || !p.RejectedAt.Equal(at) {
			t.Errorf("order rejected = %+v, want order %s, %+v, missing %v, at %s", p, orderID, wantCustomer, missing, at)
		}
	default:
		t.Errorf("event type %q, want order confirmed or rejected", ev.Type)
	}
}

func TestInventoryResultsDeadLettered(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	tests := []struct {
		name    string
		pending bool   // whether an order is placed, and must stay pending
		reason  string // Orderbus-Reason of the dead letter; "" means permanent
		// event returns the message for the placed order (orderID is
		// random when none was placed).
		event func(orderID, customer string) *nats.Msg
	}{
		{name: "unknown order", event: func(orderID, customer string) *nats.Msg {
			subject, ev := inventoryReserved(t, orderID, customer)
			return &nats.Msg{Subject: subject, Header: ev.Header(), Data: ev.Data}
		}},
		{name: "order id not a uuid", event: func(_, customer string) *nats.Msg {
			subject, ev := inventoryRejected(t, "order-1", customer, "SKU-1")
			return &nats.Msg{Subject: subject, Header: ev.Header(), Data: ev.Data}
		}},
		{name: "another customer's order", pending: true, event: func(orderID, _ string) *nats.Msg {
			subject, ev := inventoryReserved(t, orderID, uuid.NewString())
			return &nats.Msg{Subject: subject, Header: ev.Header(), Data: ev.Data}
		}},
		{name: "unknown event type", pending: true, event: func(orderID, customer string) *nats.Msg {
			subject, ev := inventoryReserved(t, orderID, customer)
			h := ev.Header()
			h.Set("ce-type", "orderbus.inventory.reserved.v9")
			return &nats.Msg{Subject: subject, Header: h, Data: ev.Data}
		}},
		{name: "reservation forged by another service", pending: true, reason: "foreign_source",
			event: func(orderID, customer string) *nats.Msg {
				subject, ev := inventoryReserved(t, orderID, customer)
				h := ev.Header()
				h.Set(events.HeaderSource, events.SourceOf(events.ServiceSMS))
				return &nats.Msg{Subject: subject, Header: h, Data: ev.Data}
			}},
		{name: "payload of the wrong shape", pending: true, event: func(orderID, customer string) *nats.Msg {
			subject, ev := inventoryRejected(t, orderID, customer)
			return &nats.Msg{Subject: subject, Header: ev.Header(), Data: []byte(`{"order_id": 42}`)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			customer, orderID := uuid.NewString(), uuid.NewString()
			if tt.pending {
				orderID = e.placeOrder(t, customer, "SKU-1")
			}
			msg := tt.event(orderID, customer)
			e.settled(t, servicetest.MustPublish(t, e.js, msg))

			dlqSubject := events.DLQSubject(durableOrderInventory, msg.Subject)
			dead := servicetest.StreamMsgs(t, e.js, events.StreamDLQ, dlqSubject)
			if len(dead) != 1 {
				t.Fatalf("%d messages on %s, want 1", len(dead), dlqSubject)
			}
			h := dead[0].Header
			reason := tt.reason
			if reason == "" {
				reason = "permanent"
			}
			if h.Get("Orderbus-Reason") != reason || h.Get("Orderbus-Consumer") != durableOrderInventory ||
				h.Get("ce-id") != msg.Header.Get("ce-id") || string(dead[0].Data) != string(msg.Data) {
				t.Errorf("dead letter: reason %q, consumer %q, ce-id %q, body %s; want %s, %s, the original",
					h.Get("Orderbus-Reason"), h.Get("Orderbus-Consumer"), h.Get("ce-id"), dead[0].Data, reason, durableOrderInventory)
			}
			for _, subject := range []string{events.OrderConfirmedSubject(customer), events.OrderRejectedSubject(customer)} {
				if n := len(servicetest.StreamMsgs(t, e.js, events.StreamOrders, subject)); n != 0 {
					t.Errorf("%d messages on %s, want none", n, subject)
				}
			}
			if tt.pending {
				if o := e.getOrder(t, orderID); o.Status != "pending" || len(o.History) != 1 {
					t.Errorf("order %s with %d history entries, want pending with 1", o.Status, len(o.History))
				}
			}
		})
	}
}
