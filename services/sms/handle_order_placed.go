package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/pkg/erasure"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/inbox"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/pgdb"
)

// handleOrderPlaced texts the customer that the order was received, at
// most once per event as far as the database can tell, and records it
// (README "Delivery guarantees"): an event whose message is recorded as
// sent, or erased since, sends nothing; one recorded as failed (back by a
// redrive) is sent again and its row updated; any other is sent, then
// recorded with its inbox entry in one transaction. An order of an erased
// customer placed up to the erasure's cut-off (erasure.Guard) is not sent,
// and its message is not recorded, only the suppression: checked before
// sending, and again in the transaction that would record it, so an
// erasure that commits during the send leaves no row. A payload that lacks
// what the SMS needs and a refusal for good (sendError.Permanent, recorded
// as failed) are returned as natsjs.Permanent; any other provider failure
// as natsjs.Unavailable(dependencyProvider, ...), a database failure
// through pgdb.Classify.
func handleOrderPlaced(logger *slog.Logger, store *Store, guard *erasure.Guard, provider smsProvider, metrics *smsMetrics) natsjs.Handler {
	var inFlight sync.Map // event id → struct{}
	name := provider.Name()
	return func(ctx context.Context, msg natsjs.Message) error {
		ev := msg.Event
		var p events.OrderPlaced
		if err := ev.Decode(&p); err != nil {
			return err // wraps events.ErrMalformed: dead-lettered
		}
		items, err := validateOrderPlaced(p)
		if err != nil {
			return natsjs.Permanent(fmt.Errorf("order placed event %s: %w", ev.ID, err))
		}
		log := logger.With("event_id", ev.ID, "order_id", p.OrderID)
		if _, busy := inFlight.LoadOrStore(ev.ID, struct{}{}); busy {
			return fmt.Errorf("event %s is being handled by another delivery", ev.ID)
		}
		defer inFlight.Delete(ev.ID)

		st, err := store.MessageState(ctx, durableSMS, ev.ID, p.Customer.ID, p.PlacedAt)
		if err != nil {
			return pgdb.Classify(err)
		}
		// An SMS refused for good was dead-lettered; it comes back only when
		// an operator redrives it, after fixing the cause: send it again.
		retry := st.Found && st.Status == statusFailed
		if st.Found && !retry {
			metrics.count(name, outcomeDuplicate)
			log.InfoContext(ctx, "sms already handled, not sending again", "status", st.Status, "delivery", msg.NumDelivered)
			return nil
		}
		if st.Erased {
			return suppress(ctx, log, store, guard, ev.ID, p, metrics, name)
		}

		rec := Message{
			EventID:    ev.ID,
			OrderID:    p.OrderID,
			CustomerID: p.Customer.ID,
			To:         p.Customer.Phone,
			Body:       orderReceivedText(p.OrderID, items),
			Provider:   name,
			Status:     statusSent,
			Attempts:   max(1, int(msg.NumDelivered)),
			PlacedAt:   placedAt(p.PlacedAt),
		}
		providerID, sendErr := provider.Send(ctx, textMessage{To: rec.To, Body: rec.Body, OrderID: p.OrderID, EventID: ev.ID})
		if sendErr != nil {
			var se *sendError
			if !errors.As(sendErr, &se) || !se.Permanent {
				metrics.count(name, outcomeRetry) // the runner logs the error and the retry
				return natsjs.Unavailable(dependencyProvider, fmt.Errorf("send sms for event %s: %w", ev.ID, sendErr))
			}
			rec.Status, rec.Error = statusFailed, se.Error()
		}
		rec.ProviderID = providerID

		var recorded, suppressed bool
		// Shared with the records running at the same time (pgdb.TxGroup),
		// failing alone; it may run twice.
		err = store.records.Do(ctx, func(ctx context.Context, tx pgx.Tx) error {
			var err error
			if suppressed, err = guard.Check(ctx, tx, durableSMS, ev.ID, p.Customer.ID, p.PlacedAt); err != nil || suppressed {
				if err == nil && !retry {
					_, err = inbox.Record(ctx, tx, durableSMS, ev.ID)
				}
				return err
			}
			if retry {
				recorded, err = recordRetry(ctx, tx, rec)
			} else {
				recorded, err = recordMessage(ctx, tx, durableSMS, rec)
			}
			return err
		})
		if err != nil {
			// The SMS may be out already: the redelivery resends it
			// (README "Delivery guarantees").
			return pgdb.Classify(fmt.Errorf("record message for event %s: %w", ev.ID, err))
		}
		if suppressed {
			metrics.count(name, outcomeSuppressed)
			log.InfoContext(ctx, "customer erased while the sms was sent; nothing recorded", "provider", name)
			return nil
		}
		if !recorded {
			// Another instance handled the same event at the same time.
			log.WarnContext(ctx, "another delivery recorded this event first; the sms may have gone out twice",
				"provider", name, "provider_id", providerID)
		}
		if sendErr != nil {
			metrics.count(name, outcomeFailed)
			log.InfoContext(ctx, "sms refused by the provider, recorded as failed", "provider", name, "error", sendErr)
			return natsjs.Permanent(fmt.Errorf("send sms for event %s: %w", ev.ID, sendErr))
		}
		metrics.count(name, outcomeSent)
		log.InfoContext(ctx, "sms sent", "provider", name, "provider_id", providerID, "delivery", msg.NumDelivered)
		return nil
	}
}

// suppress acknowledges an order placed event of an erased customer
// without sending: the suppression and the inbox entry, in one transaction
// that checks the tombstone again under its lock (erasure.Guard.Check).
func suppress(ctx context.Context, log *slog.Logger, store *Store, guard *erasure.Guard, eventID string,
	p events.OrderPlaced, metrics *smsMetrics, provider string) error {
	err := pgx.BeginFunc(ctx, store.pool, func(tx pgx.Tx) error {
		if _, err := guard.Check(ctx, tx, durableSMS, eventID, p.Customer.ID, p.PlacedAt); err != nil {
			return err
		}
		_, err := inbox.Record(ctx, tx, durableSMS, eventID)
		return err
	})
	if err != nil {
		return pgdb.Classify(fmt.Errorf("record suppressed event %s: %w", eventID, err))
	}
	metrics.count(provider, outcomeSuppressed)
	log.InfoContext(ctx, "order of an erased customer; no sms sent")
	return nil
}

// placedAt returns t, or nil when zero (an event that does not say).
func placedAt(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// orderReceivedText is the SMS for a received order of items pieces in
// all (the sum of the quantities, as the receipt mail counts them), e.g.
// "Order 0193ab12-... received, 3 items". The order id is given in full,
// so it can be quoted to support; the text stays within one GSM-7 segment
// (160 characters).
func orderReceivedText(orderID string, items int) string {
	noun := "items"
	if items == 1 {
		noun = "item"
	}
	return fmt.Sprintf("Order %s received, %d %s", orderID, items, noun)
}

// validateOrderPlaced checks what the SMS needs and returns the number of
// items ordered (the sum of the quantities). Errors name the field, never
// its (personal) value.
func validateOrderPlaced(p events.OrderPlaced) (int, error) {
	if !events.ValidUUID(p.OrderID) {
		return 0, errors.New("order_id is not a UUID")
	}
	if !events.ValidUUID(p.Customer.ID) {
		return 0, errors.New("customer.id is not a UUID")
	}
	if !events.ValidPhone(p.Customer.Phone) {
		return 0, errors.New("customer.phone is not an E.164 number")
	}
	total := 0
	for i, it := range p.Items {
		if it.Quantity < 1 {
			return 0, fmt.Errorf("items.%d.quantity is below 1", i)
		}
		total += it.Quantity
	}
	if total == 0 {
		return 0, errors.New("items is empty")
	}
	return total, nil
}
