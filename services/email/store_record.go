package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/pkg/inbox"
)

// recordMail stores m and records m.EventID in the inbox of consumer, in
// tx. It reports false, storing nothing, when the event was already
// recorded (a concurrent redelivery got there first). SentAt is set to
// now for a sent mail; ID and CreatedAt are assigned by the database.
func recordMail(ctx context.Context, tx pgx.Tx, consumer string, m Mail) (bool, error) {
	isNew, err := inbox.Record(ctx, tx, consumer, m.EventID)
	if err != nil || !isNew {
		return false, err
	}
	tag, err := tx.Exec(ctx, `
		INSERT INTO mails (event_id, kind, order_id, customer_id, recipient, subject,
		                   message_id, status, error, attempts, sent_at, placed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULLIF($9, ''), $10,
		        CASE WHEN $8 = 'sent' THEN now() END, $11)
		ON CONFLICT (event_id) DO NOTHING`,
		m.EventID, m.Kind, m.OrderID, m.CustomerID, m.Recipient, m.Subject,
		m.MessageID, m.Status, m.Error, m.Attempts, m.PlacedAt)
	if err != nil {
		return false, fmt.Errorf("insert mail for event %s: %w", m.EventID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// recordRetry updates, in tx, the failed mail of m.EventID with the
// outcome of sending it again (a redrive): status, error, one more
// attempt, and SentAt when sent. It reports false, changing nothing, when
// no failed mail of that event is stored (erased, or already retried by a
// concurrent delivery).
func recordRetry(ctx context.Context, tx pgx.Tx, m Mail) (bool, error) {
	tag, err := tx.Exec(ctx, `
		UPDATE mails SET status = $2, error = NULLIF($3, ''), attempts = attempts + 1,
		       sent_at = CASE WHEN $2 = 'sent' THEN now() END
		WHERE event_id = $1 AND status = 'failed'`,
		m.EventID, m.Status, m.Error)
	if err != nil {
		return false, fmt.Errorf("update retried mail for event %s: %w", m.EventID, err)
	}
	return tag.RowsAffected() == 1, nil
}
