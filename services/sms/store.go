package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderbus/orderbus/pkg/inbox"
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
	ProviderID string     `json:"provider_id,omitempty"`
	Status     string     `json:"status"`
	Error      string     `json:"error,omitempty"`
	Attempts   int        `json:"attempts"`
	CreatedAt  time.Time  `json:"created_at"`
	SentAt     *time.Time `json:"sent_at,omitempty"`
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

// RecordMessage stores m and records m.EventID in the inbox of consumer,
// in one transaction. It reports false, storing nothing, when the event was
// already recorded (a concurrent redelivery got there first). SentAt is
// set to now for a sent message; ID and CreatedAt are assigned by the
// database. It returns an error when the transaction fails; then nothing
// is stored.
func (s *Store) RecordMessage(ctx context.Context, consumer string, m Message) (bool, error) {
	var recorded bool
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		isNew, err := inbox.Record(ctx, tx, consumer, m.EventID)
		if err != nil || !isNew {
			return err
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO messages (event_id, order_id, customer_id, to_number, body, provider,
			                      provider_id, status, error, attempts, sent_at)
			VALUES ($1, $2, $3, $4, $5, $6, NULLIF($7, ''), $8, NULLIF($9, ''), $10,
			        CASE WHEN $8 = 'sent' THEN now() END)
			ON CONFLICT (event_id) DO NOTHING`,
			m.EventID, m.OrderID, m.CustomerID, m.To, m.Body, m.Provider,
			m.ProviderID, m.Status, m.Error, m.Attempts)
		if err != nil {
			return fmt.Errorf("insert message: %w", err)
		}
		recorded = tag.RowsAffected() == 1
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("record message for event %s: %w", m.EventID, err)
	}
	return recorded, nil
}

// RecordRetry updates the failed message of m.EventID with the outcome of
// sending it again (a redrive): status, provider id, error, one more
// attempt, and SentAt when sent. consumer is unused (the event is in the
// inbox already); the parameter keeps RecordMessage's shape. It reports
// false, changing nothing, when no failed message of that event is stored.
// It returns an error when the update fails.
func (s *Store) RecordRetry(ctx context.Context, _ string, m Message) (bool, error) {
	tag, err := s.pool.Exec(ctx, `
		UPDATE messages SET status = $2, provider_id = NULLIF($3, ''), error = NULLIF($4, ''),
		       attempts = attempts + 1, sent_at = CASE WHEN $2 = 'sent' THEN now() END
		WHERE event_id = $1 AND status = 'failed'`,
		m.EventID, m.Status, m.ProviderID, m.Error)
	if err != nil {
		return false, fmt.Errorf("record retried message for event %s: %w", m.EventID, err)
	}
	return tag.RowsAffected() == 1, nil
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

// eraseCustomer is the SMS service's erasure.Eraser: it deletes, in tx,
// every messages row of customerID (sent or failed), and with them the
// phone numbers, texts and refusal texts they hold, and reports how many
// as "messages". The inbox keeps the events' ids, which are no personal
// data and keep redeliveries from texting again (see MessageStatus).
func eraseCustomer(ctx context.Context, tx pgx.Tx, customerID string) (map[string]int64, error) {
	tag, err := tx.Exec(ctx, `DELETE FROM messages WHERE customer_id = $1`, customerID)
	if err != nil {
		return nil, fmt.Errorf("delete messages of a customer: %w", err)
	}
	return map[string]int64{"messages": tag.RowsAffected()}, nil
}
