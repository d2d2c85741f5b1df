package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/pkg/erasure"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/inbox"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/pgdb"
	"github.com/orderbus/orderbus/services/order/internal/status"
)

// changeTimeout bounds the transaction of one status change. The runner
// does not cancel a handler's context at shutdown (so that it can commit),
// so the handler bounds its own work.
const changeTimeout = 10 * time.Second

// errCustomerMismatch is returned by statusChanger.change when the event
// names another customer than the order's.
var errCustomerMismatch = errors.New("event names another customer than the order's")

// statusChanger applies the status changes that inventory results ask
// for, and publishes the events announcing them. The handlers in
// handle_inventory_*.go decode the results and describe the change.
type statusChanger struct {
	logger  *slog.Logger
	store   *Store
	relay   *outbox.Relay
	guard   *erasure.Guard
	metrics *metrics
}

// statusChange is a change of an order's status asked for by an inventory
// result.
type statusChange struct {
	// MessageID is recorded in the inbox of durableOrderInventory: a
	// message already recorded changes nothing.
	MessageID string
	// OrderID is the order to change; CustomerID is the customer the event
	// names, which must be the order's.
	OrderID    uuid.UUID
	CustomerID uuid.UUID
	// To is the status asked for (confirmed or rejected), and Note explains
	// it in the history.
	To   status.Status
	Note string
	// Missing are the SKUs the inventory lacked, for orders.rejected.
	Missing []string
	// PlacedAt is the order's placed_at as the result carries it (zero
	// when it does not), compared with the customer's tombstone.
	PlacedAt time.Time
}

// Outcomes of statusChanger.change.
const (
	changeApplied   = "applied"   // the order moved, and the event is in the outbox
	changeIgnored   = "ignored"   // status.CanChange refused it: the order stays as it is
	changeDuplicate = "duplicate" // the message was already handled
	// changeSuppressed: the result is about an erased customer's order
	// placed up to the erasure's cut-off (pkg/erasure): acknowledged, nothing changed.
	changeSuppressed = "suppressed"
)

// changeResult is what statusChanger.change did.
type changeResult struct {
	Outcome string        // changeApplied, changeIgnored or changeDuplicate
	From    status.Status // the order's status before (unset for a duplicate)
	At      time.Time     // when the change was applied
	EventID string        // the announcing event's id, when applied
}

// apply applies c for msg, an inventory result of kind result (reserved or
// rejected, for the metrics), and publishes the announcement after the
// commit (outbox.Relay.PublishNow; the relay publishes it later if that
// fails). A duplicate, or a change the status rules refuse (the order is
// decided already), is acknowledged without changing anything. An unknown
// order or another customer's order is permanent (DLQ); database failures
// go through pgdb.Classify. See README.md, "Guarantees".
func (sc *statusChanger) apply(ctx context.Context, msg natsjs.Message, result string, c statusChange) error {
	tctx, cancel := context.WithTimeout(ctx, changeTimeout)
	res, err := sc.change(tctx, c)
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
		log.InfoContext(ctx, "inventory result already handled", "delivery", msg.NumDelivered)
	case changeSuppressed:
		log.InfoContext(ctx, "inventory result about an erased customer's order; nothing changed")
	case changeIgnored:
		log.InfoContext(ctx, "inventory result ignored: the order is decided already", "status", res.From, "asked", c.To)
	case changeApplied:
		published := sc.relay.PublishNow(ctx, log, res.EventID)
		log.InfoContext(ctx, "order status changed", "from", res.From, "to", c.To,
			"announced_event_id", res.EventID, "published", published)
	}
	return nil
}

// change applies c in one transaction, shared with the changes running
// at the same time (pgdb.TxGroup; c fails alone): it records c.MessageID in the
// inbox, checks the customer's tombstone (erasure.Guard.Check: a result
// about an erased order changes nothing, changeSuppressed), locks the order and, when status.CanChange allows the move, sets
// its status with a history entry and enqueues the announcement. It
// returns errOrderNotFound or errCustomerMismatch (rolling everything
// back), or the error of a statement or the commit.
func (sc *statusChanger) change(ctx context.Context, c statusChange) (changeResult, error) {
	var res changeResult
	err := sc.store.changes.Do(ctx, func(ctx context.Context, tx pgx.Tx) error {
		res = changeResult{}
		first, err := inbox.Record(ctx, tx, durableOrderInventory, c.MessageID)
		if err != nil || !first {
			res.Outcome = changeDuplicate
			return err
		}
		suppressed, err := sc.guard.Check(ctx, tx, durableOrderInventory, c.MessageID, c.CustomerID.String(), c.PlacedAt)
		if err != nil || suppressed {
			res.Outcome = changeSuppressed
			return err
		}
		o, err := lockOrder(ctx, tx, c.OrderID)
		if err != nil {
			return err
		}
		if o.Customer.ID != c.CustomerID.String() {
			return errCustomerMismatch
		}
		res.From = status.Status(o.Status)
		if !status.CanChange(res.From, c.To) {
			res.Outcome = changeIgnored
			return nil
		}
		// PostgreSQL keeps microseconds: the event shows what is stored.
		res.At = time.Now().UTC().Truncate(time.Microsecond)
		subject, ev, err := announcement(o, c, res.At)
		if err != nil {
			return err
		}
		if err := setStatus(ctx, tx, o.ID, c.To, res.At, c.Note); err != nil {
			return err
		}
		if err := outbox.Enqueue(ctx, tx, subject, ev); err != nil {
			return err
		}
		res.Outcome, res.EventID = changeApplied, ev.ID
		return nil
	})
	if err != nil {
		return changeResult{}, fmt.Errorf("change order %s to %s: %w", c.OrderID, c.To, err)
	}
	return res, nil
}

// announcement returns the event announcing that order o moved to c.To at
// at, and its subject: orders.confirmed.<customer>, or
// orders.rejected.<customer> carrying the customer (so that the email
// service can apologise without a lookup) and the missing SKUs.
func announcement(o order, c statusChange, at time.Time) (string, events.Event, error) {
	switch c.To {
	case status.Confirmed:
		ev, err := events.New(eventSource, events.TypeOrderConfirmed, o.ID.String(), events.OrderConfirmed{
			OrderID: o.ID.String(), CustomerID: o.Customer.ID, ConfirmedAt: at, PlacedAt: o.CreatedAt,
		})
		if err != nil {
			return "", events.Event{}, fmt.Errorf("build order confirmed event: %w", err)
		}
		return events.OrderConfirmedSubject(o.Customer.ID), ev, nil
	case status.Rejected:
		missing := c.Missing
		if missing == nil {
			missing = []string{} // [] rather than null in the event
		}
		ev, err := events.New(eventSource, events.TypeOrderRejected, o.ID.String(), events.OrderRejected{
			OrderID: o.ID.String(), Customer: o.Customer, MissingSKUs: missing, RejectedAt: at, PlacedAt: o.CreatedAt,
		})
		if err != nil {
			return "", events.Event{}, fmt.Errorf("build order rejected event: %w", err)
		}
		return events.OrderRejectedSubject(o.Customer.ID), ev, nil
	}
	return "", events.Event{}, fmt.Errorf("no announcement for status %s", c.To)
}

// parseOrderRef parses the order and customer ids an inventory result
// names, which must be canonical UUIDs (events.ValidUUID). Errors name the
// field and are permanent.
func parseOrderRef(eventID, orderID, customerID string) (uuid.UUID, uuid.UUID, error) {
	if !events.ValidUUID(orderID) {
		return uuid.Nil, uuid.Nil, natsjs.Permanent(fmt.Errorf("event %s: order_id is not a UUID", eventID))
	}
	if !events.ValidUUID(customerID) {
		return uuid.Nil, uuid.Nil, natsjs.Permanent(fmt.Errorf("event %s: customer_id is not a UUID", eventID))
	}
	return uuid.MustParse(orderID), uuid.MustParse(customerID), nil
}
