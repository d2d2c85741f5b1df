package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/pkg/inbox"
)

// recordMessage stores m and records m.EventID in the inbox of consumer,
// in tx. It reports false, storing nothing, when the event was already
// recorded (a concurrent redelivery got there first). SentAt is set to
// now for a sent message; ID and CreatedAt are assigned by the database.
func recordMessage(ctx context.Context, tx pgx.Tx, consumer string, m Message) (bool, error) {
	isNew, err := inbox.Record(ctx, tx, consumer, m.EventID)
	if err != nil || !isNew {
		return false, err
	}
	tag, err := tx.Exec(ctx, `
		INSERT INTO messages (event_id, order_id, customer_id, to_number, body, provider,
		                      provider_id, status, error, attempts, sent_at, placed_at)
		VALUES ($1, $2, $3, $4, $5, $6, NULLIF($7, ''), $8, NULLIF($9, ''), $10,
		        CASE WHEN $8 = 'sent' THEN now() END, $11)
		ON CONFLICT (event_id) DO NOTHING`,
		m.EventID, m.OrderID, m.CustomerID, m.To, m.Body, m.Provider,
		m.ProviderID, m.Status, m.Error, m.Attempts, m.PlacedAt)
	if err != nil {
		return false, fmt.Errorf("insert message for event %s: %w", m.EventID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// recordRetry updates, in tx, the failed message of m.EventID with the
// outcome of sending it again (a redrive): status, provider id, error, one
// more attempt, and SentAt when sent. It reports false, changing nothing,
// when no failed message of that event is stored (erased, or already
// retried by a concurrent delivery).
func recordRetry(ctx context.Context, tx pgx.Tx, m Message) (bool, error) {
	tag, err := tx.Exec(ctx, `
		UPDATE messages SET status = $2, provider_id = NULLIF($3, ''), error = NULLIF($4, ''),
		       attempts = attempts + 1, sent_at = CASE WHEN $2 = 'sent' THEN now() END
		WHERE event_id = $1 AND status = 'failed'`,
		m.EventID, m.Status, m.ProviderID, m.Error)
	if err != nil {
		return false, fmt.Errorf("update retried message for event %s: %w", m.EventID, err)
	}
	return tag.RowsAffected() == 1, nil
}
