package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// eraseTimeout bounds the statement of one erasure, as reserveTimeout does
// a reservation (Config.ackWait allows for both): the consumer does not
// cancel a handler's context at shutdown.
const eraseTimeout = 10 * time.Second

// eraseCustomer is the inventory service's erasure.Eraser. A reservation
// must stay, for stock accounting (what was taken from stock, and why an
// order was rejected), so it is not deleted but stripped of the one
// personal field it has: customer_id becomes NULL. The order id, status,
// missing SKUs and lines stay; once the order service has deleted the
// order, nothing links them to the customer. It returns
// {"reservations": n}, n being the reservations cleared (0 when none
// named the customer), or the statement's error.
//
// The inventory stores nothing else personal: the name, e-mail and phone
// in an order placed event are never stored, a later order's reservation
// (placed after before) keeps its customer, the inbox holds event ids,
// and the customer's results still waiting in the outbox are deleted by
// erasure.Participant.
func eraseCustomer(ctx context.Context, tx pgx.Tx, customerID string, before time.Time) (map[string]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, eraseTimeout)
	defer cancel()
	tag, err := tx.Exec(ctx, `UPDATE reservations SET customer_id = NULL WHERE customer_id = $1
		AND (placed_at IS NULL OR placed_at <= $2)`, customerID, before)
	if err != nil {
		return nil, fmt.Errorf("clear customer of reservations: %w", err)
	}
	return map[string]int64{"reservations": tag.RowsAffected()}, nil
}
