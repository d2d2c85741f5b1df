package main

import (
	"log/slog"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/erasure"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/pgdb"
)

// durableSMS is the SMS service's durable consumer on ORDERS, and its
// inbox consumer name. Renaming it makes JetStream deliver the whole
// stream again: every message whose event id is in neither the messages
// table nor the inbox would be sent.
const durableSMS = "sms"

// subscriptions lists every stream, durable consumer and subject the SMS
// service consumes:
//
//   - "sms" on ORDERS: orders.placed. To handle another event type, add a
//     route: its filter joins the consumer's FilterSubjects and its type
//     the dispatch. While the provider or the database is unavailable the
//     consumer pauses; its probes say when to resume (smsProvider.Probe,
//     pgdb.Probe).
//   - "sms-erasure" on GDPR: gdpr.erasure.requested, answered on
//     gdpr.erasure.completed.sms through the outbox (see pkg/erasure and
//     eraseCustomer), and gdpr.erasure.verify, answered on
//     gdpr.erasure.verified.sms once "sms" has settled the purged
//     messages. Every effect of "sms" checks the customer's tombstone
//     (erasure.Guard), and so do its dead letters.
func subscriptions(logger *slog.Logger, store *Store, relay *outbox.Relay, guard *erasure.Guard,
	js jetstream.JetStream, provider smsProvider, metrics *smsMetrics) []natsjs.Subscription {
	erasures := erasure.Participant{
		Service: serviceName, Pool: store.pool, Relay: relay, Erase: eraseCustomer, Logger: logger,
		Guard: guard, JS: js, Consumers: []erasure.Consumer{{Stream: events.StreamOrders, Durable: durableSMS}},
	}
	return []natsjs.Subscription{{
		Stream:  events.StreamOrders,
		Durable: durableSMS,
		Probes: map[string]natsjs.Probe{
			dependencyProvider: provider.Probe,
			pgdb.Dependency:    pgdb.Probe(store.pool),
		},
		DeadLetters: guard,
		Routes: []natsjs.Route{
			{Filter: events.FilterOrderPlaced, Type: events.TypeOrderPlaced,
				Handler: handleOrderPlaced(logger, store, guard, provider, metrics)},
		},
	}, erasures.Subscription()}
}
