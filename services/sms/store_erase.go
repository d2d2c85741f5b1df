package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

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
