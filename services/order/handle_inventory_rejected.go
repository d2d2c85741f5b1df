package main

import (
	"context"
	"strings"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/services/order/internal/status"
)

// handleInventoryRejected rejects a pending order the inventory could not
// reserve, noting the missing SKUs in its history, and announces it with
// orders.rejected.<customer> (events.OrderRejected); see
// statusChanger.apply.
func handleInventoryRejected(sc *statusChanger) natsjs.Handler {
	return func(ctx context.Context, msg natsjs.Message) error {
		var p events.InventoryRejected
		if err := msg.Event.Decode(&p); err != nil {
			return err // wraps events.ErrMalformed: dead-lettered
		}
		orderID, customerID, err := parseOrderRef(msg.Event.ID, p.OrderID, p.CustomerID)
		if err != nil {
			return err
		}
		return sc.apply(ctx, msg, "rejected", statusChange{
			MessageID:  msg.Event.ID,
			OrderID:    orderID,
			CustomerID: customerID,
			PlacedAt:   p.PlacedAt,
			To:         status.Rejected,
			Note:       rejectedNote(p.MissingSKUs),
			Missing:    p.MissingSKUs,
		})
	}
}

// rejectedNote is the history note of a rejected order: it names the
// missing SKUs, when the inventory listed them.
func rejectedNote(missing []string) string {
	if len(missing) == 0 {
		return "inventory rejected the order"
	}
	return "inventory rejected the order; missing SKUs: " + strings.Join(missing, ", ")
}
