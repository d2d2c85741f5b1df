package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/pkg/erasure"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/inbox"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/pgdb"
)

// dependencySMTP names the SMTP server in natsjs.Unavailable errors and
// in the consumer's probes.
const dependencySMTP = "smtp"

// eventMail is the mail one event asks for, rendered.
type eventMail struct {
	Kind       string // kindReceipt or kindApology
	OrderID    string
	CustomerID string
	To         mail.Address
	Content    mailContent
	PlacedAt   time.Time // the order's, compared with erasure tombstones; zero when unknown
}

// mailSender sends the mail each event asks for and records it, at most
// once per event as far as the database can tell. Every mail handler
// (handle_order_*.go) decodes its event, renders its mail and hands it to
// send; all of them share one mailSender per consumer.
type mailSender struct {
	logger   *slog.Logger
	store    *Store
	guard    *erasure.Guard
	mailer   *smtpMailer
	metrics  *mailMetrics
	consumer string   // the inbox consumer name
	inFlight sync.Map // event id → struct{}: deliveries being handled here
}

// newMailSender returns a mailSender recording events in the inbox of
// consumer.
func newMailSender(logger *slog.Logger, store *Store, guard *erasure.Guard, mailer *smtpMailer, metrics *mailMetrics, consumer string) *mailSender {
	return &mailSender{logger: logger, store: store, guard: guard, mailer: mailer, metrics: metrics, consumer: consumer}
}

// send sends m for the event of msg, at most once per event as far as the
// database can tell, and records it (README "Delivery guarantees"): an
// event whose mail is recorded as sent, or erased since, sends nothing; one
// recorded as failed (back by a redrive) is sent again and its row
// updated; any other is sent, with the Message-ID <event id@MAIL_DOMAIN>,
// then recorded with its inbox entry in one transaction. A mail about an
// erased customer's order placed up to the erasure's cut-off
// (erasure.Guard) is not sent, and not recorded, only its suppression:
// checked before sending and again in the transaction that would record
// it, so an erasure committing during the send leaves no row. A refusal for
// good (sendError.Permanent) is recorded as failed and returned as
// natsjs.Permanent; any other SMTP failure as
// natsjs.Unavailable(dependencySMTP, ...), a database failure through
// pgdb.Classify.
func (s *mailSender) send(ctx context.Context, msg natsjs.Message, m eventMail) error {
	ev := msg.Event
	log := s.logger.With("event_id", ev.ID, "order_id", m.OrderID, "kind", m.Kind)
	if _, busy := s.inFlight.LoadOrStore(ev.ID, struct{}{}); busy {
		return fmt.Errorf("event %s is being handled by another delivery", ev.ID)
	}
	defer s.inFlight.Delete(ev.ID)

	st, err := s.store.MailState(ctx, s.consumer, ev.ID, m.CustomerID, m.PlacedAt)
	if err != nil {
		return pgdb.Classify(err)
	}
	// A mail refused for good was dead-lettered; it comes back only when an
	// operator redrives it, after fixing the cause: send it again.
	retry := st.Found && st.Status == statusFailed
	if st.Found && !retry {
		s.metrics.count(m.Kind, outcomeDuplicate)
		log.InfoContext(ctx, "mail already handled, not sending again", "status", st.Status, "delivery", msg.NumDelivered)
		return nil
	}
	if st.Erased {
		return s.suppress(ctx, log, ev.ID, m)
	}

	rec := Mail{
		EventID:    ev.ID,
		Kind:       m.Kind,
		OrderID:    m.OrderID,
		CustomerID: m.CustomerID,
		Recipient:  m.To.Address,
		Subject:    m.Content.Subject,
		MessageID:  s.mailer.MessageID(ev.ID),
		Status:     statusSent,
		Attempts:   max(1, int(msg.NumDelivered)),
		PlacedAt:   placedAt(m.PlacedAt),
	}
	sendErr := s.mailer.Send(ctx, outgoingMail{
		ID:      ev.ID,
		To:      m.To,
		Subject: m.Content.Subject,
		Text:    m.Content.Text,
		HTML:    m.Content.HTML,
		Headers: map[string]string{"X-Order-Id": m.OrderID},
	})
	if sendErr != nil {
		var de *sendError
		if !errors.As(sendErr, &de) || !de.Permanent {
			s.metrics.count(m.Kind, outcomeRetry) // the runner logs the error and the retry
			return natsjs.Unavailable(dependencySMTP, fmt.Errorf("send %s for event %s: %w", m.Kind, ev.ID, sendErr))
		}
		rec.Status, rec.Error = statusFailed, de.Error()
	}

	var suppressed bool
	// Shared with the records running at the same time (pgdb.TxGroup),
	// failing alone; it may run twice.
	err = s.store.records.Do(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if suppressed, err = s.guard.Check(ctx, tx, s.consumer, ev.ID, m.CustomerID, m.PlacedAt); err != nil || suppressed {
			if err == nil && !retry {
				_, err = inbox.Record(ctx, tx, s.consumer, ev.ID)
			}
			return err
		}
		if retry {
			_, err = recordRetry(ctx, tx, rec)
		} else {
			_, err = recordMail(ctx, tx, s.consumer, rec)
		}
		return err
	})
	if err != nil {
		// The mail may be out already: the redelivery resends it with
		// the same Message-ID (README "Delivery guarantees").
		return pgdb.Classify(fmt.Errorf("record mail for event %s: %w", ev.ID, err))
	}
	if suppressed {
		s.metrics.count(m.Kind, outcomeSuppressed)
		log.InfoContext(ctx, "customer erased while the mail was sent; nothing recorded")
		return nil
	}
	if sendErr != nil {
		s.metrics.count(m.Kind, outcomeFailed)
		log.InfoContext(ctx, "mail refused by the smtp server, recorded as failed", "error", sendErr)
		return natsjs.Permanent(fmt.Errorf("send %s for event %s: %w", m.Kind, ev.ID, sendErr))
	}
	s.metrics.count(m.Kind, outcomeSent)
	log.InfoContext(ctx, "mail sent", "message_id", rec.MessageID, "delivery", msg.NumDelivered)
	return nil
}

// suppress acknowledges the event of an erased customer's mail without
// sending it: the suppression and the inbox entry, in one transaction that
// checks the tombstone again under its lock (erasure.Guard.Check).
func (s *mailSender) suppress(ctx context.Context, log *slog.Logger, eventID string, m eventMail) error {
	err := pgx.BeginFunc(ctx, s.store.pool, func(tx pgx.Tx) error {
		if _, err := s.guard.Check(ctx, tx, s.consumer, eventID, m.CustomerID, m.PlacedAt); err != nil {
			return err
		}
		_, err := inbox.Record(ctx, tx, s.consumer, eventID)
		return err
	})
	if err != nil {
		return pgdb.Classify(fmt.Errorf("record suppressed event %s: %w", eventID, err))
	}
	s.metrics.count(m.Kind, outcomeSuppressed)
	log.InfoContext(ctx, "mail for an erased customer's order; not sent")
	return nil
}

// placedAt returns t, or nil when zero (an event that does not say).
func placedAt(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// validateRecipient checks the ids and address a mail about an order
// needs and returns the recipient. Errors name the field, never its
// (personal) value.
func validateRecipient(orderID string, c events.Customer) (mail.Address, error) {
	if !events.ValidUUID(orderID) {
		return mail.Address{}, errors.New("order_id is not a UUID")
	}
	if !events.ValidUUID(c.ID) {
		return mail.Address{}, errors.New("customer.id is not a UUID")
	}
	addr, err := mail.ParseAddress(c.Email)
	if err != nil || addr.Address != c.Email {
		return mail.Address{}, errors.New("customer.email is not a bare e-mail address")
	}
	return mail.Address{Name: c.Name, Address: addr.Address}, nil
}
