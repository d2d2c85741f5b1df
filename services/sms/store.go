package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Message statuses as stored in messages.
const (
	statusSent   = "sent"
	statusFailed = "failed"
	// statusErased is never stored: MessageStatus reports it for an event
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

// MessageStatus returns the status of the SMS handled for eventID by the
// inbox consumer consumer and true, or "" and false when there is none.
// The status is the messages row's (sent or failed), or statusErased when
// only the inbox remembers the event: a GDPR erasure deleted the row,
// which held the customer's number, but not the inbox record, which holds
// ids only, so a redelivery of the event still sends nothing. It returns
// an error when the query fails.
func (s *Store) MessageStatus(ctx context.Context, consumer, eventID string) (string, bool, error) {
	var (
		status  *string
		inInbox bool
	)
	err := s.pool.QueryRow(ctx, `
		SELECT (SELECT status FROM messages WHERE event_id = $2),
		       EXISTS (SELECT 1 FROM inbox WHERE consumer = $1 AND message_id = $2)`,
		consumer, eventID).Scan(&status, &inInbox)
	switch {
	case err != nil:
		return "", false, fmt.Errorf("message status for event %s: %w", eventID, err)
	case status != nil:
		return *status, true, nil
	case inInbox:
		return statusErased, true, nil
	}
	return "", false, nil
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
