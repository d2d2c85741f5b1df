package main

import (
	"context"
	"fmt"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
)

// handleOrderRejected sends the customer an apology for an order the
// inventory could not fulfil, naming the order and the missing SKUs,
// through sender: at most once per event as far as the database can tell,
// with the event's Message-ID (see mailSender.send for the guarantees and
// error classes). A payload that cannot be decoded or lacks what the mail
// needs is a permanent failure: the runner dead-letters it.
func handleOrderRejected(tmpl *mailTemplates, sender *mailSender) natsjs.Handler {
	return func(ctx context.Context, msg natsjs.Message) error {
		ev := msg.Event
		var p events.OrderRejected
		if err := ev.Decode(&p); err != nil {
			return err // wraps events.ErrMalformed: dead-lettered
		}
		to, err := validateRecipient(p.OrderID, p.Customer)
		if err != nil {
			return natsjs.Permanent(fmt.Errorf("order rejected event %s: %w", ev.ID, err))
		}
		content, err := tmpl.Apology(p)
		if err != nil {
			return natsjs.Permanent(fmt.Errorf("order rejected event %s: %w", ev.ID, err))
		}
		return sender.send(ctx, msg, eventMail{
			Kind: kindApology, OrderID: p.OrderID, CustomerID: p.Customer.ID, To: to, Content: content,
			PlacedAt: p.PlacedAt,
		})
	}
}
