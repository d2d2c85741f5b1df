package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderbus/orderbus/pkg/inbox"
)

// Mail kinds and statuses as stored in mails.
const (
	kindReceipt  = "receipt" // for orders.placed
	kindApology  = "apology" // for orders.rejected
	statusSent   = "sent"
	statusFailed = "failed"
	// statusErased is never stored: MailStatus reports it for an event
	// whose mail was handled and whose row an erasure deleted since.
	statusErased = "erased"
)

// Mail is the record of one mail the service handled: sent, or refused for
// good by the SMTP server (failed). Bodies are not kept; they can be
// rendered again from the event.
type Mail struct {
	ID         int64      `json:"id"`
	EventID    string     `json:"event_id"`
	Kind       string     `json:"kind"`
	OrderID    string     `json:"order_id"`
	CustomerID string     `json:"customer_id"`
	Recipient  string     `json:"recipient"`
	Subject    string     `json:"subject"`
	MessageID  string     `json:"message_id"`
	Status     string     `json:"status"`
	Error      string     `json:"error,omitempty"`
	Attempts   int        `json:"attempts"`
	CreatedAt  time.Time  `json:"created_at"`
	SentAt     *time.Time `json:"sent_at,omitempty"`
}

// Store is the email service's database: the mails table and the inbox.
type Store struct {
	pool *pgxpool.Pool
}

// newStore returns a Store on pool, whose schema must be migrated.
func newStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Ping checks that the database answers; it is the /readyz check.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// MailStatus returns the status of the mail handled for eventID by the
// inbox consumer consumer and true, or "" and false when there is none.
// The status is the mails row's (sent or failed), or statusErased when
// only the inbox remembers the event: a GDPR erasure deleted the row,
// which held the customer's address, but not the inbox record, which
// holds ids only, so a redelivery of the event still sends nothing. It
// returns an error when the query fails.
func (s *Store) MailStatus(ctx context.Context, consumer, eventID string) (string, bool, error) {
	var (
		status  *string
		inInbox bool
	)
	err := s.pool.QueryRow(ctx, `
		SELECT (SELECT status FROM mails WHERE event_id = $2),
		       EXISTS (SELECT 1 FROM inbox WHERE consumer = $1 AND message_id = $2)`,
		consumer, eventID).Scan(&status, &inInbox)
	switch {
	case err != nil:
		return "", false, fmt.Errorf("mail status for event %s: %w", eventID, err)
	case status != nil:
		return *status, true, nil
	case inInbox:
		return statusErased, true, nil
	}
	return "", false, nil
}

// RecordMail stores m and records m.EventID in the inbox of consumer, in
// one transaction. It reports false, storing nothing, when the event was
// already recorded (a concurrent redelivery got there first). SentAt is
// set to now for a sent mail; ID and CreatedAt are assigned by the
// database. It returns an error when the transaction fails; then nothing
// is stored.
func (s *Store) RecordMail(ctx context.Context, consumer string, m Mail) (bool, error) {
	var recorded bool
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		isNew, err := inbox.Record(ctx, tx, consumer, m.EventID)
		if err != nil || !isNew {
			return err
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO mails (event_id, kind, order_id, customer_id, recipient, subject,
			                   message_id, status, error, attempts, sent_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULLIF($9, ''), $10,
			        CASE WHEN $8 = 'sent' THEN now() END)
			ON CONFLICT (event_id) DO NOTHING`,
			m.EventID, m.Kind, m.OrderID, m.CustomerID, m.Recipient, m.Subject,
			m.MessageID, m.Status, m.Error, m.Attempts)
		if err != nil {
			return fmt.Errorf("insert mail: %w", err)
		}
		recorded = tag.RowsAffected() == 1
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("record mail for event %s: %w", m.EventID, err)
	}
	return recorded, nil
}

// RecordRetry updates the failed mail of m.EventID with the outcome of
// sending it again (a redrive): status, error, one more attempt, and SentAt
// when sent. consumer is unused: the event is in the inbox already; the
// parameter keeps RecordMail's shape. It reports false, changing nothing,
// when no failed mail of that event is stored (erased, or already retried
// by a concurrent delivery). It returns an error when the update fails.
func (s *Store) RecordRetry(ctx context.Context, _ string, m Mail) (bool, error) {
	tag, err := s.pool.Exec(ctx, `
		UPDATE mails SET status = $2, error = NULLIF($3, ''), attempts = attempts + 1,
		       sent_at = CASE WHEN $2 = 'sent' THEN now() END
		WHERE event_id = $1 AND status = 'failed'`,
		m.EventID, m.Status, m.Error)
	if err != nil {
		return false, fmt.Errorf("record retried mail for event %s: %w", m.EventID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// MailsByOrder returns the mails recorded for orderID, oldest first, or an
// empty slice. It returns an error when the query fails.
func (s *Store) MailsByOrder(ctx context.Context, orderID string) ([]Mail, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, event_id, kind, order_id::text, customer_id::text, recipient, subject,
		       message_id, status, COALESCE(error, ''), attempts, created_at, sent_at
		FROM mails WHERE order_id = $1 ORDER BY id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("mails of order %s: %w", orderID, err)
	}
	mails, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Mail, error) {
		var m Mail
		err := row.Scan(&m.ID, &m.EventID, &m.Kind, &m.OrderID, &m.CustomerID, &m.Recipient, &m.Subject,
			&m.MessageID, &m.Status, &m.Error, &m.Attempts, &m.CreatedAt, &m.SentAt)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("mails of order %s: %w", orderID, err)
	}
	return mails, nil
}

// eraseCustomer is the email service's erasure.Eraser: it deletes, in tx,
// every mails row of customerID (receipts and apologies, sent or failed),
// and with them the recipient addresses, subjects and refusal texts they
// hold, and reports how many as "mails". The inbox keeps the events' ids,
// which are no personal data and keep redeliveries from mailing again
// (see MailStatus).
func eraseCustomer(ctx context.Context, tx pgx.Tx, customerID string) (map[string]int64, error) {
	tag, err := tx.Exec(ctx, `DELETE FROM mails WHERE customer_id = $1`, customerID)
	if err != nil {
		return nil, fmt.Errorf("delete mails of a customer: %w", err)
	}
	return map[string]int64{"mails": tag.RowsAffected()}, nil
}
