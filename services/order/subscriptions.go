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

// durableOrderInventory is the order service's durable consumer on
// INVENTORY, and its inbox consumer name. Renaming it makes JetStream
// deliver the whole stream again (the inbox does not know the new name,
// but the status rules ignore results for orders already decided).
const durableOrderInventory = "order-inventory"

// subscriptions lists every stream, durable consumer and subject the order
// service consumes: the inventory results on "order-inventory", and the
// erasure requests and verifications on "order-erasure" (stream GDPR; see
// eraseCustomer and pkg/erasure). Every status change checks the
// customer's tombstone (erasure.Guard), and so do the dead letters. To
// handle another event type, add a route: its filter joins the consumer's
// FilterSubjects and its type the dispatch.
func subscriptions(logger *slog.Logger, store *Store, relay *outbox.Relay, guard *erasure.Guard, js jetstream.JetStream,
	m *metrics) []natsjs.Subscription {
	sc := &statusChanger{logger: logger, store: store, relay: relay, guard: guard, metrics: m}
	erasures := erasure.Participant{
		Service: serviceName, Pool: store.pool, Relay: relay, Erase: eraseCustomer, Logger: logger,
		Guard: guard, JS: js, Consumers: []erasure.Consumer{{Stream: events.StreamInventory, Durable: durableOrderInventory}},
	}
	return []natsjs.Subscription{{
		Stream:      events.StreamInventory,
		Durable:     durableOrderInventory,
		Probes:      map[string]natsjs.Probe{pgdb.Dependency: pgdb.Probe(store.pool)},
		DeadLetters: guard,
		Routes: []natsjs.Route{
			{Filter: events.FilterInventory, Type: events.TypeInventoryReserved,
				Handler: handleInventoryReserved(sc)},
			{Filter: events.FilterInventory, Type: events.TypeInventoryRejected,
				Handler: handleInventoryRejected(sc)},
		},
	}, erasures.Subscription()}
}
