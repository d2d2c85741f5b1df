package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"sync"

	"github.com/google/uuid"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
)

// handleOrderPlaced sends the customer a receipt for a placed order, at
// most once per event as far as the database can tell:
//
//   - an event whose mail is already recorded (sent or failed) is
//     acknowledged without sending anything;
//   - otherwise the mail is sent, then the mail row and the inbox record
//     are committed in one transaction.
//
// SMTP is not part of that transaction. If the process dies, or the commit
// fails, after the SMTP server accepted the mail, the event is redelivered
// and the mail sent again, with the same Message-ID (<event id@MAIL_DOMAIN>),
// which mail systems use to drop the copy. That is the at-least-once edge
// of this handler.
//
// Two deliveries of one event in this process at once (a duplicate
// published under another Nats-Msg-Id, an AckWait expiry) do not both
// send: the second is retried later, when the first has recorded its mail.
// Across instances that race remains, with the same Message-ID as its
// only safeguard.
//
// A payload that cannot be decoded or lacks what a receipt needs, and a
// mail the SMTP server refuses for good (5xx), are permanent failures: the
// refusal is recorded as a failed mail, and the runner dead-letters the
// message. Everything else (SMTP or database unreachable, 4xx replies) is
// returned as is, and the runner redelivers the message with backoff.
func handleOrderPlaced(logger *slog.Logger, store *Store, mailer *Mailer, tmpl *Templates, metrics *mailMetrics) natsjs.Handler {
	var inFlight sync.Map // event id → struct{}
	return func(ctx context.Context, msg natsjs.Message) error {
		ev := msg.Event
		var p events.OrderPlaced
		if err := ev.Decode(&p); err != nil {
			return natsjs.Permanent(err)
		}
		to, err := validateOrderPlaced(p)
		if err != nil {
			return natsjs.Permanent(fmt.Errorf("order placed event %s: %w", ev.ID, err))
		}
		log := logger.With("event_id", ev.ID, "order_id", p.OrderID)
		if _, busy := inFlight.LoadOrStore(ev.ID, struct{}{}); busy {
			return fmt.Errorf("event %s is being handled by another delivery", ev.ID)
		}
		defer inFlight.Delete(ev.ID)

		if status, found, err := store.MailStatus(ctx, ev.ID); err != nil {
			return err
		} else if found {
			metrics.count(kindReceipt, outcomeDuplicate)
			log.Info("receipt already handled, not sending again", "status", status, "delivery", msg.NumDelivered)
			return nil
		}

		content, err := tmpl.Receipt(p)
		if err != nil {
			return natsjs.Permanent(fmt.Errorf("order placed event %s: %w", ev.ID, err))
		}
		rec := Mail{
			EventID:    ev.ID,
			Kind:       kindReceipt,
			OrderID:    p.OrderID,
			CustomerID: p.Customer.ID,
			Recipient:  to.Address,
			Subject:    content.Subject,
			MessageID:  mailer.MessageID(ev.ID),
			Status:     statusSent,
			Attempts:   max(1, int(msg.NumDelivered)),
		}
		sendErr := mailer.Send(ctx, Outgoing{
			ID:      ev.ID,
			To:      to,
			Subject: content.Subject,
			Text:    content.Text,
			HTML:    content.HTML,
			Headers: map[string]string{"X-Order-Id": p.OrderID},
		})
		if sendErr != nil {
			var de *DeliveryError
			if !errors.As(sendErr, &de) || !de.Permanent {
				metrics.count(kindReceipt, outcomeRetry) // the runner logs the error and the retry
				return fmt.Errorf("send receipt for event %s: %w", ev.ID, sendErr)
			}
			rec.Status, rec.Error = statusFailed, de.Error()
		}

		if _, err := store.RecordMail(ctx, durableEmail, rec); err != nil {
			// The mail may be out already: the redelivery resends it with
			// the same Message-ID (see above).
			return err
		}
		if sendErr != nil {
			metrics.count(kindReceipt, outcomeFailed)
			log.Info("receipt refused by the smtp server, recorded as failed", "error", sendErr)
			return natsjs.Permanent(fmt.Errorf("send receipt for event %s: %w", ev.ID, sendErr))
		}
		metrics.count(kindReceipt, outcomeSent)
		log.Info("receipt sent", "message_id", rec.MessageID, "delivery", msg.NumDelivered)
		return nil
	}
}

// validateOrderPlaced checks what a receipt needs and returns the
// recipient. Errors name the field, never its (personal) value.
func validateOrderPlaced(p events.OrderPlaced) (mail.Address, error) {
	if !isCanonicalUUID(p.OrderID) {
		return mail.Address{}, errors.New("order_id is not a UUID")
	}
	if !isCanonicalUUID(p.Customer.ID) {
		return mail.Address{}, errors.New("customer.id is not a UUID")
	}
	addr, err := mail.ParseAddress(p.Customer.Email)
	if err != nil || addr.Address != p.Customer.Email {
		return mail.Address{}, errors.New("customer.email is not a bare e-mail address")
	}
	return mail.Address{Name: p.Customer.Name, Address: addr.Address}, nil
}

// isCanonicalUUID reports whether s is a UUID in its 36-character form.
// Other forms the uuid package accepts (urn:uuid:..., braces) would be
// refused by PostgreSQL only after the mail is out, and then retried and
// resent until dead-lettered.
func isCanonicalUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}
