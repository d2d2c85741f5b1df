package main

import (
	"log/slog"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
)

// durableSMS is the SMS service's durable consumer on ORDERS, and its
// inbox consumer name. Renaming it makes JetStream deliver the whole
// stream again: every message not yet in the messages table would be sent.
const durableSMS = "sms"

// subscriptions lists every stream, durable consumer and subject the SMS
// service consumes. To handle another event type, add a route: its filter
// joins the consumer's FilterSubjects and its type the dispatch.
func subscriptions(logger *slog.Logger, store *Store, provider Provider, metrics *smsMetrics) []natsjs.Subscription {
	return []natsjs.Subscription{{
		Stream:  events.StreamOrders,
		Durable: durableSMS,
		Routes: []natsjs.Route{
			{Filter: events.FilterOrderPlaced, Type: events.TypeOrderPlaced,
				Handler: handleOrderPlaced(logger, store, provider, metrics)},
		},
	}}
}
