package main

import (
	"log/slog"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/pgdb"
)

// durableCompletions is the gdpr service's durable consumer on GDPR, and
// its inbox consumer name. Renaming it makes JetStream deliver every
// answer again: the inbox does not know the new name, so each would be
// recorded (and audited) a second time, harmlessly but noisily.
const durableCompletions = "gdpr-completions"

// subscriptions lists every stream, durable consumer and subject the gdpr
// service consumes: the participants' answers and verifications. The
// erasure requests and verification requests it publishes are consumed by
// the participants, each on its own <service>-erasure durable.
func subscriptions(logger *slog.Logger, store *Store, c *completer, m *metrics) []natsjs.Subscription {
	return []natsjs.Subscription{{
		Stream:  events.StreamGDPR,
		Durable: durableCompletions,
		Probes:  map[string]natsjs.Probe{pgdb.Dependency: pgdb.Probe(store.pool)},
		Routes: []natsjs.Route{
			{Filter: events.FilterErasureCompleted, Type: events.TypeErasureCompleted,
				Handler: handleErasureCompleted(logger, store, c, m)},
			{Filter: events.FilterErasureVerified, Type: events.TypeErasureVerified,
				Handler: handleErasureVerified(logger, store, c, m)},
		},
	}}
}
