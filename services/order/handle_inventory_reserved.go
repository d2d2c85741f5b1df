package main

import (
	"context"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/services/order/internal/status"
)

// noteReserved is the history note of a confirmed order.
const noteReserved = "inventory reserved every item"

// handleInventoryReserved confirms a pending order whose items the
// inventory reserved and announces it with orders.confirmed.<customer>
// (events.OrderConfirmed); see statusChanger.apply.
func handleInventoryReserved(sc *statusChanger) natsjs.Handler {
	return func(ctx context.Context, msg natsjs.Message) error {
		var p events.InventoryReserved
		if err := msg.Event.Decode(&p); err != nil {
			return err // wraps events.ErrMalformed: dead-lettered
		}
		orderID, customerID, err := parseOrderRef(msg.Event.ID, p.OrderID, p.CustomerID)
		if err != nil {
			return err
		}
		return sc.apply(ctx, msg, "reserved", statusChange{
			MessageID:  msg.Event.ID,
			OrderID:    orderID,
			CustomerID: customerID,
			PlacedAt:   p.PlacedAt,
			To:         status.Confirmed,
			Note:       noteReserved,
		})
	}
}
