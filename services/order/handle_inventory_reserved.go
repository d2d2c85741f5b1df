package main

import (
	"context"
	"fmt"
	"time"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/services/order/internal/status"
)

// noteReserved is the history note of a confirmed order.
const noteReserved = "inventory reserved every item"

// handleInventoryReserved confirms a pending order whose items the
// inventory reserved, and announces it with orders.confirmed.<customer>
// (events.OrderConfirmed), in the transaction that records the message
// in the inbox. See statusChanger.apply for redeliveries, results for
// orders already decided and failures.
func handleInventoryReserved(sc *statusChanger) natsjs.Handler {
	return func(ctx context.Context, msg natsjs.Message) error {
		var p events.InventoryReserved
		if err := msg.Event.Decode(&p); err != nil {
			return natsjs.Permanent(err)
		}
		orderID, customerID, err := parseOrderRef(msg.Event.ID, p.OrderID, p.CustomerID)
		if err != nil {
			return err
		}
		return sc.apply(ctx, msg, "reserved", statusChange{
			Consumer:   durableOrderInventory,
			MessageID:  msg.Event.ID,
			OrderID:    orderID,
			CustomerID: customerID,
			To:         status.Confirmed,
			Note:       noteReserved,
			Announce: func(o order, at time.Time) (string, events.Event, error) {
				ev, err := events.New(eventSource, events.TypeOrderConfirmed, o.ID.String(), events.OrderConfirmed{
					OrderID:     o.ID.String(),
					CustomerID:  o.Customer.ID,
					ConfirmedAt: at,
				})
				if err != nil {
					return "", events.Event{}, fmt.Errorf("build order confirmed event: %w", err)
				}
				return events.OrderConfirmedSubject(o.Customer.ID), ev, nil
			},
		})
	}
}
