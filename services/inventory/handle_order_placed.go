package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/pgdb"
	"github.com/orderbus/orderbus/services/inventory/internal/stock"
)

// handleOrderPlaced reserves the stock of a placed order, all or nothing,
// and announces the result: inventory.reserved.<customer>, or
// inventory.rejected.<customer> with the SKUs that are missing. The
// decision, the stock change, the inbox record and the announcement (in
// the outbox) are one transaction (see Store.Reserve), so a redelivered
// event, or a second event for the same order, changes nothing and
// announces nothing again.
//
// After the commit the announcement is published at once (Relay.PublishNow);
// if that fails the relay publishes it later. The message is acknowledged
// either way.
//
// A payload that cannot be decoded, lacks a canonical order or customer
// UUID, or has no lines or a line without a SKU or with a quantity below 1
// is a permanent failure: the runner dead-letters it. Database failures
// go through pgdb.Classify (an unreachable database pauses the consumer
// until its probe passes) and are redelivered with backoff for as long as
// it takes.
func handleOrderPlaced(logger *slog.Logger, store *Store, relay *outbox.Relay, metrics *reservationMetrics) natsjs.Handler {
	return func(ctx context.Context, msg natsjs.Message) error {
		ev := msg.Event
		var p events.OrderPlaced
		if err := ev.Decode(&p); err != nil {
			return natsjs.Permanent(err)
		}
		req, err := newReservationRequest(ev.ID, p)
		if err != nil {
			return natsjs.Permanent(fmt.Errorf("order placed event %s: %w", ev.ID, err))
		}
		log := logger.With("event_id", ev.ID, "order_id", req.OrderID)

		res, err := store.Reserve(ctx, durableInventory, req, announceDecision(req))
		if err != nil {
			return pgdb.Classify(err)
		}
		metrics.count(res.Outcome)
		if res.Outcome == outcomeDuplicate {
			reason := "event already handled"
			if res.Status != "" {
				reason = "order already " + res.Status + " by another event"
			}
			log.Info("order placed event is a duplicate; nothing reserved", "reason", reason, "delivery", msg.NumDelivered)
			return nil
		}
		published := relay.PublishNow(ctx, log, res.EventID)
		attrs := []any{"lines", len(req.Lines), "result_event_id", res.EventID, "published", published, "delivery", msg.NumDelivered}
		if res.Outcome == outcomeRejected {
			attrs = append(attrs, "missing_skus", res.Missing)
		}
		log.Info("order "+res.Status, attrs...)
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
	return reservationRequest{EventID: eventID, OrderID: p.OrderID, CustomerID: p.Customer.ID, Lines: lines}, nil
}

// announceDecision returns the announcement builder for req: an inventory
// reserved or inventory rejected event about the order, on the customer's
// subject.
func announceDecision(req reservationRequest) announceFunc {
	return func(d stock.Decision, at time.Time) (announcement, error) {
		var (
			a   announcement
			err error
		)
		if d.Reserve {
			a.Subject = events.InventoryReservedSubject(req.CustomerID)
			a.Event, err = events.New(eventSource, events.TypeInventoryReserved, req.OrderID, events.InventoryReserved{
				OrderID: req.OrderID, CustomerID: req.CustomerID, ReservedAt: at,
			})
		} else {
			a.Subject = events.InventoryRejectedSubject(req.CustomerID)
			a.Event, err = events.New(eventSource, events.TypeInventoryRejected, req.OrderID, events.InventoryRejected{
				OrderID: req.OrderID, CustomerID: req.CustomerID, MissingSKUs: d.Missing, RejectedAt: at,
			})
		}
		if err != nil {
			return announcement{}, fmt.Errorf("build result event: %w", err)
		}
		return a, nil
	}
}
