package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/pgdb"
)

// changeTimeout bounds the transaction of one status change. The runner
// does not cancel a handler's context at shutdown (so that it can commit),
// so the handler bounds its own work.
const changeTimeout = 10 * time.Second

// statusChanger applies the status changes that inventory results ask
// for, and publishes the events announcing them. The handlers in
// handle_inventory_*.go decode the results and describe the change.
type statusChanger struct {
	logger         *slog.Logger
	store          *Store
	relay          *outbox.Relay
	nc             *nats.Conn
	metrics        *metrics
	publishTimeout time.Duration
}

// apply applies c (see Store.ChangeStatus) for the message msg, which
// carries an inventory result of kind result (reserved or rejected, for
// the metrics). A redelivered message, or a change the status rules
// refuse (the order was decided already: a redelivery or results out of
// order), is acknowledged without changing anything. After a change is
// committed its event is published at once when NATS is connected; if
// that fails the outbox relay publishes it later. An unknown order, or an
// event naming another customer, is a permanent failure: retrying cannot
// help, so the message goes to the DLQ. Other errors are transient. The
// work is bounded by changeTimeout plus the publish timeout.
func (sc *statusChanger) apply(ctx context.Context, msg natsjs.Message, result string, c statusChange) error {
	tctx, cancel := context.WithTimeout(ctx, changeTimeout)
	res, err := sc.store.ChangeStatus(tctx, c)
	cancel()
	switch {
	case errors.Is(err, errOrderNotFound), errors.Is(err, errCustomerMismatch):
		return natsjs.Permanent(err)
	case err != nil:
		return pgdb.Classify(err)
	}
	sc.metrics.inventoryResults.WithLabelValues(result, res.Outcome).Inc()
	log := sc.logger.With("event_id", msg.Event.ID, "order_id", c.OrderID)
	switch res.Outcome {
	case changeDuplicate:
		log.Info("inventory result already handled", "delivery", msg.NumDelivered)
	case changeIgnored:
		log.Info("inventory result ignored: the order is decided already", "status", res.From, "asked", c.To)
	case changeApplied:
		published := publishNow(ctx, sc.logger, sc.relay, sc.nc, res.EventID, sc.publishTimeout)
		log.Info("order status changed", "from", res.From, "to", c.To,
			"announced_event_id", res.EventID, "published", published)
	}
	return nil
}

// parseOrderRef parses the order and customer ids an inventory result
// names. Errors name the field, and are permanent: the message cannot be
// applied however often it is retried.
func parseOrderRef(eventID, orderID, customerID string) (uuid.UUID, uuid.UUID, error) {
	o, err := uuid.Parse(orderID)
	if err != nil {
		return uuid.Nil, uuid.Nil, natsjs.Permanent(fmt.Errorf("event %s: order_id is not a UUID", eventID))
	}
	c, err := uuid.Parse(customerID)
	if err != nil {
		return uuid.Nil, uuid.Nil, natsjs.Permanent(fmt.Errorf("event %s: customer_id is not a UUID", eventID))
	}
	return o, c, nil
}
