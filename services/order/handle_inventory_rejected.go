package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/services/order/internal/status"
)

// handleInventoryRejected rejects a pending order the inventory could not
// reserve, noting the missing SKUs in its history, and announces it with
// orders.rejected.<customer> (events.OrderRejected, carrying the customer
// so the email service can send an apology without a lookup), in the
// transaction that records the message in the inbox. See
// statusChanger.apply for redeliveries, results for orders already decided
// and failures.
func handleInventoryRejected(sc *statusChanger) natsjs.Handler {
	return func(ctx context.Context, msg natsjs.Message) error {
		var p events.InventoryRejected
		if err := msg.Event.Decode(&p); err != nil {
			return natsjs.Permanent(err)
		}
		orderID, customerID, err := parseOrderRef(msg.Event.ID, p.OrderID, p.CustomerID)
		if err != nil {
			return err
		}
		missing := p.MissingSKUs
		if missing == nil {
			missing = []string{} // [] rather than null in the event
		}
		return sc.apply(ctx, msg, "rejected", statusChange{
			Consumer:   durableOrderInventory,
			MessageID:  msg.Event.ID,
			OrderID:    orderID,
			CustomerID: customerID,
			To:         status.Rejected,
			Note:       rejectedNote(missing),
			Announce: func(o order, at time.Time) (string, events.Event, error) {
				ev, err := events.New(eventSource, events.TypeOrderRejected, o.ID.String(), events.OrderRejected{
					OrderID:     o.ID.String(),
					Customer:    o.Customer,
					MissingSKUs: missing,
					RejectedAt:  at,
				})
				if err != nil {
					return "", events.Event{}, fmt.Errorf("build order rejected event: %w", err)
				}
				return events.OrderRejectedSubject(o.Customer.ID), ev, nil
			},
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
