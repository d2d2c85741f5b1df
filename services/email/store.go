package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderbus/orderbus/pkg/erasure"
	"github.com/orderbus/orderbus/pkg/pgdb"
)

// Mail kinds and statuses as stored in mails.
const (
	kindReceipt  = "receipt" // for orders.placed
	kindApology  = "apology" // for orders.rejected
	statusSent   = "sent"
	statusFailed = "failed"
	// statusErased is never stored: MailState reports it for an event
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
	// records runs concurrent records of sends in one transaction (group
	// commit, pgdb.TxGroup): one WAL flush for all of them.
	records *pgdb.TxGroup
}

// recordTimeout bounds one group transaction recording sends.
const recordTimeout = 10 * time.Second

// newStore returns a Store on pool, whose schema must be migrated.
func newStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, records: pgdb.NewTxGroup(pool, recordTimeout)}
}

// Ping checks that the database answers; it is the /readyz check.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// mailState is what the database knows of an event before its mail
// is sent (see MailState).
type mailState struct {
	// Status is the mails row's (sent or failed), or statusErased when
	// only the inbox remembers the event: a GDPR erasure deleted the row,
	// but not the inbox record, which holds ids only, so a redelivery of
	// the event still sends nothing. "" when Found is false.
	Status string
	// Found reports whether the event was handled before.
	Found bool
	// Erased reports whether the customer's tombstone covers the order
	// (erasure.QueueErased, read without its lock: erasure.Guard.Check,
	// in the transaction that records the mail, stays the one that counts).
	Erased bool
}

// MailState returns what the store knows of eventID for the inbox
// consumer consumer, and whether customerID's order placed at placedAt is
// erased, in one round trip. It returns an error when a query fails.
func (s *Store) MailState(ctx context.Context, consumer, eventID, customerID string, placedAt time.Time) (mailState, error) {
	var st mailState
	b := &pgx.Batch{}
	b.Queue(`
		SELECT (SELECT status FROM mails WHERE event_id = $2),
		       EXISTS (SELECT 1 FROM inbox WHERE consumer = $1 AND message_id = $2)`,
		consumer, eventID).QueryRow(func(row pgx.Row) error {
		var (
			status  *string
			inInbox bool
		)
		if err := row.Scan(&status, &inInbox); err != nil {
			return err
		}
		switch {
		case status != nil:
			st.Status, st.Found = *status, true
		case inInbox:
			st.Status, st.Found = statusErased, true
		}
		return nil
	})
	erasure.QueueErased(b, customerID, placedAt, &st.Erased)
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return mailState{}, fmt.Errorf("mail state of event %s: %w", eventID, err)
	}
	return st, nil
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
