package main

import (
	"context"
	"fmt"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
)

// handleOrderPlaced sends the customer a receipt for a placed order,
// through sender: at most once per event as far as the database can tell,
// with the event's Message-ID (see mailSender.send for the guarantees and
// error classes). A payload that cannot be decoded or lacks what a
// receipt needs is a permanent failure: the runner dead-letters it.
func handleOrderPlaced(tmpl *mailTemplates, sender *mailSender) natsjs.Handler {
	return func(ctx context.Context, msg natsjs.Message) error {
		ev := msg.Event
		var p events.OrderPlaced
		if err := ev.Decode(&p); err != nil {
			return err // wraps events.ErrMalformed: dead-lettered
		}
		to, err := validateRecipient(p.OrderID, p.Customer)
		if err != nil {
			return natsjs.Permanent(fmt.Errorf("order placed event %s: %w", ev.ID, err))
		}
		content, err := tmpl.Receipt(p)
		if err != nil {
			return natsjs.Permanent(fmt.Errorf("order placed event %s: %w", ev.ID, err))
		}
		return sender.send(ctx, msg, eventMail{
			Kind: kindReceipt, OrderID: p.OrderID, CustomerID: p.Customer.ID, To: to, Content: content,
			PlacedAt: p.PlacedAt,
		})
	}
}
