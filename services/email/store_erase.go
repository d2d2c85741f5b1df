package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// eraseCustomer is the email service's erasure.Eraser: it deletes, in tx,
// every mails row of customerID (receipts and apologies, sent or failed)
// about an order placed up to before (a later order's mails stay),
// and with them the recipient addresses, subjects and refusal texts they
// hold, and reports how many as "mails". The inbox keeps the events' ids,
// which are no personal data and keep redeliveries from mailing again
// (see MailState).
func eraseCustomer(ctx context.Context, tx pgx.Tx, customerID string, before time.Time) (map[string]int64, error) {
	tag, err := tx.Exec(ctx, `DELETE FROM mails WHERE customer_id = $1
		AND (placed_at IS NULL OR placed_at <= $2)`, customerID, before)
	if err != nil {
		return nil, fmt.Errorf("delete mails of a customer: %w", err)
	}
	return map[string]int64{"mails": tag.RowsAffected()}, nil
}
