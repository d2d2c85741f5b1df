package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/google/uuid"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/pgdb"
)

// handleOrderPlaced texts the customer that the order was received, at
// most once per event as far as the database can tell:
//
//   - an event whose message is already recorded as sent, or was recorded
//     and then erased (its id stays in the inbox), is acknowledged without
//     sending anything;
//   - an event whose message was recorded as failed (refused for good,
//     then dead-lettered) is back because an operator redrove it: the SMS
//     is sent again and its row updated;
//   - otherwise the SMS is sent, then the message row and the inbox record
//     are committed in one transaction.
//
// The provider is not part of that transaction. If the process dies, or
// the commit fails, after the provider accepted the SMS, the event is
// redelivered and the SMS sent again. The webhook provider passes the
// event id as Idempotency-Key, by which the receiver can drop the copy;
// Twilio takes no such key, so there the customer may get it twice. That
// is the at-least-once edge of this handler.
//
// Two deliveries of one event in this process at once (a duplicate
// published under another Nats-Msg-Id, an AckWait expiry) do not both
// send: the second is retried later, when the first has recorded its
// message. Across instances that race remains, with the idempotency key
// as its only safeguard.
//
// A payload that cannot be decoded or lacks what the SMS needs, and an SMS
// the provider refuses for good (SendError.Permanent: a 4xx that blames
// the message or recipient, see isPermanentStatus), are permanent
// failures: the refusal is recorded as a failed message, and the runner
// dead-letters the message. Every other provider failure is returned as
// natsjs.Unavailable(dependencyProvider, ...), and a database failure
// through pgdb.Classify: the runner redelivers the message with backoff
// for as long as it takes and, while failures go on, pauses the consumer
// and probes the dependency.
func handleOrderPlaced(logger *slog.Logger, store *Store, provider Provider, metrics *smsMetrics) natsjs.Handler {
	var inFlight sync.Map // event id → struct{}
	name := provider.Name()
	return func(ctx context.Context, msg natsjs.Message) error {
		ev := msg.Event
		var p events.OrderPlaced
		if err := ev.Decode(&p); err != nil {
			return natsjs.Permanent(err)
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

		status, found, err := store.MessageStatus(ctx, durableSMS, ev.ID)
		if err != nil {
			return pgdb.Classify(err)
		}
		// An SMS refused for good was dead-lettered; it comes back only when
		// an operator redrives it, after fixing the cause: send it again.
		retry := found && status == statusFailed
		if found && !retry {
			metrics.count(name, outcomeDuplicate)
			log.Info("sms already handled, not sending again", "status", status, "delivery", msg.NumDelivered)
			return nil
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
		}
		providerID, sendErr := provider.Send(ctx, SMS{To: rec.To, Body: rec.Body, OrderID: p.OrderID, EventID: ev.ID})
		if sendErr != nil {
			var se *SendError
			if !errors.As(sendErr, &se) || !se.Permanent {
				metrics.count(name, outcomeRetry) // the runner logs the error and the retry
				return natsjs.Unavailable(dependencyProvider, fmt.Errorf("send sms for event %s: %w", ev.ID, sendErr))
			}
			rec.Status, rec.Error = statusFailed, se.Error()
		}
		rec.ProviderID = providerID

		record := store.RecordMessage
		if retry {
			record = store.RecordRetry
		}
		recorded, err := record(ctx, durableSMS, rec)
		if err != nil {
			// The SMS may be out already: the redelivery resends it (see above).
			return pgdb.Classify(err)
		}
		if !recorded {
			// Another instance handled the same event at the same time.
			log.Warn("another delivery recorded this event first; the sms may have gone out twice",
				"provider", name, "provider_id", providerID)
		}
		if sendErr != nil {
			metrics.count(name, outcomeFailed)
			log.Info("sms refused by the provider, recorded as failed", "provider", name, "error", sendErr)
			return natsjs.Permanent(fmt.Errorf("send sms for event %s: %w", ev.ID, sendErr))
		}
		metrics.count(name, outcomeSent)
		log.Info("sms sent", "provider", name, "provider_id", providerID, "delivery", msg.NumDelivered)
		return nil
	}
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
	if !isCanonicalUUID(p.OrderID) {
		return 0, errors.New("order_id is not a UUID")
	}
	if !isCanonicalUUID(p.Customer.ID) {
		return 0, errors.New("customer.id is not a UUID")
	}
	if !validPhone(p.Customer.Phone) {
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

// isCanonicalUUID reports whether s is a UUID in its 36-character form.
// Other forms the uuid package accepts (urn:uuid:..., braces) would be
// refused by PostgreSQL only after the SMS is out, and then retried and
// resent until dead-lettered.
func isCanonicalUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}
