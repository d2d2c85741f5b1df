package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
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
	ID         int64     `json:"id"`
	EventID    string    `json:"event_id"`
	Kind       string    `json:"kind"`
	OrderID    string    `json:"order_id"`
	CustomerID string    `json:"customer_id"`
	Recipient  string    `json:"recipient"`
	Subject    string    `json:"subject"`
	MessageID  string    `json:"message_id"`
	Status     string    `json:"status"`
	Error      string    `json:"error,omitempty"`
	Attempts   int       `json:"attempts"`
	CreatedAt  time.Time `json:"created_at"`
	// PlacedAt is when the mail's order was placed (erasure cut-off).
	PlacedAt *time.Time `json:"placed_at,omitempty"`
	SentAt   *time.Time `json:"sent_at,omitempty"`
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
