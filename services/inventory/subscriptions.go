package main

import (
	"log/slog"

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
// erasure requests on "inventory-erasure" (stream GDPR; see
// eraseCustomer). To handle another event type, add a route: its filter
// joins the consumer's FilterSubjects and its type the dispatch.
func subscriptions(logger *slog.Logger, store *Store, relay *outbox.Relay, metrics *reservationMetrics) []natsjs.Subscription {
	erasures := erasure.Participant{
		Service: serviceName, Pool: store.pool, Relay: relay, Erase: eraseCustomer, Logger: logger,
	}
	return []natsjs.Subscription{{
		Stream:  events.StreamOrders,
		Durable: durableInventory,
		Probes:  map[string]natsjs.Probe{pgdb.Dependency: pgdb.Probe(store.pool)},
		Routes: []natsjs.Route{
			{Filter: events.FilterOrderPlaced, Type: events.TypeOrderPlaced,
				Handler: handleOrderPlaced(logger, store, relay, metrics)},
		},
	}, erasures.Subscription()}
}
