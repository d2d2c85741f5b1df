package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// eraseCustomer is the SMS service's erasure.Eraser: it deletes, in tx,
// every messages row of customerID (sent or failed) about an order placed
// up to before, and with them the phone numbers, texts and refusal texts
// they hold, and reports how many as "messages". A later order's messages
// stay. The inbox keeps the events' ids, which are no personal data and
// keep redeliveries from texting again (see MessageState).
func eraseCustomer(ctx context.Context, tx pgx.Tx, customerID string, before time.Time) (map[string]int64, error) {
	tag, err := tx.Exec(ctx, `DELETE FROM messages WHERE customer_id = $1
		AND (placed_at IS NULL OR placed_at <= $2)`, customerID, before)
	if err != nil {
		return nil, fmt.Errorf("delete messages of a customer: %w", err)
	}
	return map[string]int64{"messages": tag.RowsAffected()}, nil
}
