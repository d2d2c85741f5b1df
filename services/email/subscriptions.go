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

// durableEmail is the email service's durable consumer on ORDERS, and its
// inbox consumer name. Renaming it makes JetStream deliver the whole
// stream again: every receipt and apology whose event id is in neither the
// mails table nor the inbox would be sent. Adding a route (a filter)
// updates the consumer in place and keeps its position.
const durableEmail = "email"

// subscriptions lists every stream, durable consumer and subject the
// email service consumes:
//
//   - "email" on ORDERS: orders.placed (receipt) and orders.rejected
//     (apology). To handle another event type, add a route: its filter
//     joins the consumer's FilterSubjects and its type the dispatch.
//     While the SMTP server or the database is unavailable the consumer
//     pauses; its probes say when to resume (smtpMailer.Probe, pgdb.Probe).
//   - "email-erasure" on GDPR: gdpr.erasure.requested, answered on
//     gdpr.erasure.completed.email through the outbox (see pkg/erasure
//     and eraseCustomer), and gdpr.erasure.verify, answered on
//     gdpr.erasure.verified.email once "email" has settled the purged
//     messages. Every effect of "email" checks the customer's tombstone
//     (erasure.Guard), and so do its dead letters.
func subscriptions(logger *slog.Logger, store *Store, relay *outbox.Relay, guard *erasure.Guard, js jetstream.JetStream,
	mailer *smtpMailer, tmpl *mailTemplates, metrics *mailMetrics) []natsjs.Subscription {
	sender := newMailSender(logger, store, guard, mailer, metrics, durableEmail)
	erasures := erasure.Participant{
		Service: serviceName, Pool: store.pool, Relay: relay, Erase: eraseCustomer, Logger: logger,
		Guard: guard, JS: js, Consumers: []erasure.Consumer{{Stream: events.StreamOrders, Durable: durableEmail}},
	}
	return []natsjs.Subscription{{
		Stream:  events.StreamOrders,
		Durable: durableEmail,
		Probes: map[string]natsjs.Probe{
			dependencySMTP:  mailer.Probe,
			pgdb.Dependency: pgdb.Probe(store.pool),
		},
		DeadLetters: guard,
		Routes: []natsjs.Route{
			{Filter: events.FilterOrderPlaced, Type: events.TypeOrderPlaced,
				Handler: handleOrderPlaced(tmpl, sender)},
			{Filter: events.FilterOrderRejected, Type: events.TypeOrderRejected,
				Handler: handleOrderRejected(tmpl, sender)},
		},
	}, erasures.Subscription()}
}
