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

// Message statuses as stored in messages.
const (
	statusSent   = "sent"
	statusFailed = "failed"
	// statusErased is never stored: MessageState reports it for an event
	// whose SMS was handled and whose row an erasure deleted since.
	statusErased = "erased"
)

// Message is the record of one SMS the service handled: accepted by the
// provider (sent), or refused by it for good (failed).
type Message struct {
	ID         int64  `json:"id"`
	EventID    string `json:"event_id"`
	OrderID    string `json:"order_id"`
	CustomerID string `json:"customer_id"`
	To         string `json:"to"`
	Body       string `json:"body"`
	Provider   string `json:"provider"`
	// ProviderID is the provider's id for the message; empty when failed.
	ProviderID string    `json:"provider_id,omitempty"`
	Status     string    `json:"status"`
	Error      string    `json:"error,omitempty"`
	Attempts   int       `json:"attempts"`
	CreatedAt  time.Time `json:"created_at"`
	// PlacedAt is when the message's order was placed (erasure cut-off).
	PlacedAt *time.Time `json:"placed_at,omitempty"`
	SentAt   *time.Time `json:"sent_at,omitempty"`
}

// Store is the SMS service's database: the messages table and the inbox.
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

// messageState is what the database knows of an event before its sms
// is sent (see MessageState).
type messageState struct {
	// Status is the messages row's (sent or failed), or statusErased when
	// only the inbox remembers the event: a GDPR erasure deleted the row,
	// but not the inbox record, which holds ids only, so a redelivery of
	// the event still sends nothing. "" when Found is false.
	Status string
	// Found reports whether the event was handled before.
	Found bool
	// Erased reports whether the customer's tombstone covers the order
	// (erasure.QueueErased, read without its lock: erasure.Guard.Check,
	// in the transaction that records the sms, stays the one that counts).
	Erased bool
}

// MessageState returns what the store knows of eventID for the inbox
// consumer consumer, and whether customerID's order placed at placedAt is
// erased, in one round trip. It returns an error when a query fails.
func (s *Store) MessageState(ctx context.Context, consumer, eventID, customerID string, placedAt time.Time) (messageState, error) {
	var st messageState
	b := &pgx.Batch{}
	b.Queue(`
		SELECT (SELECT status FROM messages WHERE event_id = $2),
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
		return messageState{}, fmt.Errorf("sms state of event %s: %w", eventID, err)
	}
	return st, nil
}

// MessagesTo returns at most limit messages recorded for the number to
// (E.164), newest first, or an empty slice. It returns an error when the
// query fails.
func (s *Store) MessagesTo(ctx context.Context, to string, limit int) ([]Message, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, event_id, order_id::text, customer_id::text, to_number, body, provider,
		       COALESCE(provider_id, ''), status, COALESCE(error, ''), attempts, created_at, sent_at
		FROM messages WHERE to_number = $1
		ORDER BY created_at DESC, id DESC
		LIMIT $2`, to, limit)
	if err != nil {
		return nil, fmt.Errorf("messages to a number: %w", err)
	}
	msgs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Message, error) {
		var m Message
		err := row.Scan(&m.ID, &m.EventID, &m.OrderID, &m.CustomerID, &m.To, &m.Body, &m.Provider,
			&m.ProviderID, &m.Status, &m.Error, &m.Attempts, &m.CreatedAt, &m.SentAt)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("messages to a number: %w", err)
	}
	return msgs, nil
}
