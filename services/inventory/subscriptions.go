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

// durableInventory is the inventory service's durable consumer on ORDERS,
// and its inbox consumer name. Renaming it makes JetStream deliver the
// whole stream again; the reservations table keeps that from reserving
// any order twice, but every old order not yet decided would be.
const durableInventory = "inventory"

// subscriptions lists every stream, durable consumer and subject the
// inventory service consumes: the orders placed on "inventory", and the
// erasure requests and verifications on "inventory-erasure" (stream GDPR;
// see eraseCustomer and pkg/erasure). Every reservation checks the
// customer's tombstone (erasure.Guard), and so do the dead letters. To handle another event type, add a route: its filter
// joins the consumer's FilterSubjects and its type the dispatch.
func subscriptions(logger *slog.Logger, store *Store, relay *outbox.Relay, guard *erasure.Guard, js jetstream.JetStream,
	metrics *reservationMetrics) []natsjs.Subscription {
	erasures := erasure.Participant{
		Service: serviceName, Pool: store.pool, Relay: relay, Erase: eraseCustomer, Logger: logger,
		Guard: guard, JS: js, Consumers: []erasure.Consumer{{Stream: events.StreamOrders, Durable: durableInventory}},
	}
	return []natsjs.Subscription{{
		Stream:      events.StreamOrders,
		Durable:     durableInventory,
		Probes:      map[string]natsjs.Probe{pgdb.Dependency: pgdb.Probe(store.pool)},
		DeadLetters: guard,
		Routes: []natsjs.Route{
			{Filter: events.FilterOrderPlaced, Type: events.TypeOrderPlaced,
				Handler: handleOrderPlaced(logger, store, relay, guard, metrics)},
		},
	}, erasures.Subscription()}
}
