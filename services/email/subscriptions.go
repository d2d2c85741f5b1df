package main

import (
	"log/slog"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
)

// durableEmail is the email service's durable consumer on ORDERS, and its
// inbox consumer name. Renaming it makes JetStream deliver the whole
// stream again: every receipt and apology not yet in the mails table
// would be sent. Adding a route (a filter) updates the consumer in place
// and keeps its position.
const durableEmail = "email"

// subscriptions lists every stream, durable consumer and subject the
// email service consumes. To handle another event type, add a route: its
// filter joins the consumer's FilterSubjects and its type the dispatch.
func subscriptions(logger *slog.Logger, store *Store, mailer *Mailer, tmpl *Templates, metrics *mailMetrics) []natsjs.Subscription {
	sender := newMailSender(logger, store, mailer, metrics, durableEmail)
	return []natsjs.Subscription{{
		Stream:  events.StreamOrders,
		Durable: durableEmail,
		Routes: []natsjs.Route{
			{Filter: events.FilterOrderPlaced, Type: events.TypeOrderPlaced,
				Handler: handleOrderPlaced(tmpl, sender)},
			{Filter: events.FilterOrderRejected, Type: events.TypeOrderRejected,
				Handler: handleOrderRejected(tmpl, sender)},
		},
	}}
}
