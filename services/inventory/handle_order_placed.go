package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/pkg/erasure"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/inbox"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/pgdb"
	"github.com/orderbus/orderbus/services/inventory/internal/stock"
)

// handleOrderPlaced reserves the stock of a placed order, all or nothing,
// and announces the result: inventory.reserved.<customer>, or
// inventory.rejected.<customer> with the SKUs that are missing. The inbox
// record, the decision and stock change (reserveStock) and the
// announcement (in the outbox) are one transaction (shared with the
// reservations running at the same time, see pgdb.TxGroup), so a redelivered
// event, or a second event for the same order, changes nothing and
// announces nothing again. After the commit the announcement is published
// at once (Relay.PublishNow); the message is acknowledged either way.
//
// An order of an erased customer placed up to the erasure's cut-off
// (erasure.Guard.Check, in the same transaction) reserves and announces
// nothing: only the inbox record and the suppression are committed.
//
// A payload that cannot be decoded, lacks a canonical order or customer
// UUID, or has no lines or a line without a SKU or with a quantity below 1
// is a permanent failure: the runner dead-letters it. Database failures
// go through pgdb.Classify (an unreachable database pauses the consumer
// until its probe passes) and are redelivered with backoff.
func handleOrderPlaced(logger *slog.Logger, store *Store, relay *outbox.Relay, guard *erasure.Guard,
	metrics *reservationMetrics) natsjs.Handler {
	return func(ctx context.Context, msg natsjs.Message) error {
		ev := msg.Event
		var p events.OrderPlaced
		if err := ev.Decode(&p); err != nil {
			return err // events.ErrMalformed: the runner dead-letters it
		}
		req, err := newReservationRequest(ev.ID, p)
		if err != nil {
			return natsjs.Permanent(fmt.Errorf("order placed event %s: %w", ev.ID, err))
		}
		log := logger.With("event_id", ev.ID, "order_id", req.OrderID)

		// Concurrent reservations share one transaction and its commit
		// (pgdb.TxGroup); this one fails alone and may run twice.
		var res reservation
		err = store.group.Do(ctx, func(tctx context.Context, tx pgx.Tx) error {
			res = reservation{}
			first, err := inbox.Record(tctx, tx, durableInventory, req.EventID)
			if err != nil || !first {
				res.Outcome = outcomeDuplicate
				return err
			}
			suppressed, err := guard.Check(tctx, tx, durableInventory, req.EventID, req.CustomerID, req.PlacedAt)
			if err != nil || suppressed {
				res.Outcome = outcomeSuppressed
				return err
			}
			if res, err = reserveStock(tctx, tx, req); err != nil || res.Outcome == outcomeDuplicate {
				return err
			}
			subject, result, err := resultEvent(req, res)
			if err != nil {
				return err
			}
			res.EventID = result.ID
			return outbox.Enqueue(tctx, tx, subject, result)
		})
		if err != nil {
			return pgdb.Classify(fmt.Errorf("reserve stock for order %s: %w", req.OrderID, err))
		}
		metrics.count(res.Outcome)
		if res.Outcome == outcomeDuplicate {
			reason := "event already handled"
			if res.Status != "" {
				reason = "order already " + res.Status + " by another event"
			}
			log.InfoContext(ctx, "order placed event is a duplicate; nothing reserved", "reason", reason, "delivery", msg.NumDelivered)
			return nil
		}
		if res.Outcome == outcomeSuppressed {
			log.InfoContext(ctx, "order of an erased customer; nothing reserved")
			return nil
		}
		published := relay.PublishNow(ctx, log, res.EventID)
		attrs := []any{"lines", len(req.Lines), "result_event_id", res.EventID, "published", published, "delivery", msg.NumDelivered}
		if res.Outcome == outcomeRejected {
			attrs = append(attrs, "missing_skus", res.Missing)
		}
		log.InfoContext(ctx, "order "+res.Status, attrs...)
		return nil
	}
}

// newReservationRequest checks what a reservation needs from an order
// placed event. Errors name the field, never a personal value.
func newReservationRequest(eventID string, p events.OrderPlaced) (reservationRequest, error) {
	if !events.ValidUUID(p.OrderID) {
		return reservationRequest{}, errors.New("order_id is not a UUID")
	}
	if !events.ValidUUID(p.Customer.ID) {
		return reservationRequest{}, errors.New("customer.id is not a UUID")
	}
	lines := make([]stock.Line, len(p.Items))
	for i, it := range p.Items {
		lines[i] = stock.Line{SKU: it.SKU, Quantity: it.Quantity}
	}
	lines, err := stock.Normalize(lines)
	if err != nil {
		return reservationRequest{}, fmt.Errorf("items: %w", err)
	}
	return reservationRequest{EventID: eventID, OrderID: p.OrderID, CustomerID: p.Customer.ID, Lines: lines,
		PlacedAt: p.PlacedAt}, nil
}

// resultEvent returns the announcement of a new reservation and its
// subject: an inventory reserved or inventory rejected event about the
// order, on the customer's subject.
func resultEvent(req reservationRequest, res reservation) (string, events.Event, error) {
	var (
		subject string
		ev      events.Event
		err     error
	)
	if res.Outcome == outcomeReserved {
		subject = events.InventoryReservedSubject(req.CustomerID)
		ev, err = events.New(eventSource, events.TypeInventoryReserved, req.OrderID, events.InventoryReserved{
			OrderID: req.OrderID, CustomerID: req.CustomerID, ReservedAt: res.At, PlacedAt: req.PlacedAt,
		})
	} else {
		subject = events.InventoryRejectedSubject(req.CustomerID)
		ev, err = events.New(eventSource, events.TypeInventoryRejected, req.OrderID, events.InventoryRejected{
			OrderID: req.OrderID, CustomerID: req.CustomerID, MissingSKUs: res.Missing, RejectedAt: res.At,
			PlacedAt: req.PlacedAt,
		})
	}
	if err != nil {
		return "", events.Event{}, fmt.Errorf("build result event: %w", err)
	}
	return subject, ev, nil
}
