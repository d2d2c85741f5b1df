package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/outbox"
)

// durableInventory is the inventory service's durable consumer on ORDERS,
// and its inbox consumer name. Renaming it makes JetStream deliver the
// whole stream again; the reservations table keeps that from reserving
// any order twice, but every old order not yet decided would be.
const durableInventory = "inventory"

// subscription is one durable consumer of the service and the handler of
// each event type it receives.
type subscription struct {
	stream  string
	durable string
	routes  []route
}

// route handles the events of one CloudEvents type, which arrive on the
// subjects matched by filter.
type route struct {
	filter  string
	ceType  string
	handler natsjs.Handler
}

// subscriptions lists every stream, durable consumer and subject the
// inventory service consumes. To handle another event type, add a route:
// its filter joins the consumer's FilterSubjects and its type the dispatch.
func subscriptions(logger *slog.Logger, store *Store, relay *outbox.Relay, metrics *reservationMetrics, publishTimeout time.Duration) []subscription {
	return []subscription{{
		stream:  events.StreamOrders,
		durable: durableInventory,
		routes: []route{
			{filter: events.FilterOrderPlaced, ceType: events.TypeOrderPlaced,
				handler: handleOrderPlaced(logger, store, relay, metrics, publishTimeout)},
		},
	}}
}

// filters returns the routes' subject filters, each once.
func (s subscription) filters() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range s.routes {
		if !seen[r.filter] {
			seen[r.filter] = true
			out = append(out, r.filter)
		}
	}
	return out
}

// handler dispatches each message on its ce-type. A type without a route
// is a permanent failure: it goes to the DLQ instead of being dropped, so
// a producer's new event type is noticed and can be replayed once handled.
func (s subscription) handler() natsjs.Handler {
	byType := make(map[string]natsjs.Handler, len(s.routes))
	for _, r := range s.routes {
		byType[r.ceType] = r.handler
	}
	return func(ctx context.Context, msg natsjs.Message) error {
		h, ok := byType[msg.Event.Type]
		if !ok {
			return natsjs.Permanent(fmt.Errorf("consumer %s: no handler for event type %q on %s",
				s.durable, msg.Event.Type, msg.Subject))
		}
		return h(ctx, msg)
	}
}

// consumerConfig is the JetStream consumer for s, tuned from cfg.
func (s subscription) consumerConfig(cfg Config, logger *slog.Logger, reg prometheus.Registerer) natsjs.ConsumerConfig {
	return natsjs.ConsumerConfig{
		Stream:         s.stream,
		Durable:        s.durable,
		FilterSubjects: s.filters(),
		AckWait:        cfg.ackWait(),
		MaxDeliver:     cfg.ConsumerMaxDeliver,
		BackOff:        cfg.ConsumerBackoff,
		Concurrency:    cfg.ConsumerConcurrency,
		Logger:         logger.With("consumer", s.durable),
		Metrics:        reg,
	}
}
