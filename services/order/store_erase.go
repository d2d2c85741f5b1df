package main

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// eraseTimeout bounds the statements of one erasure: the consumer does not
// cancel a handler's context at shutdown, so the handler bounds its work.
const eraseTimeout = 10 * time.Second

// eraseCustomer is the order service's erasure.Eraser. It locks the
// customer's orders placed up to before (the erasure's cut-off; a later
// order is a new one and stays) in tx and deletes them with their items, history and
// idempotency keys, and returns how many rows of each it deleted
// ("orders", "order_items", "order_history", "idempotency_keys"; zeros
// when there is nothing left), or the error of a statement. Why deleted
// and not anonymised, and why locked first: README.md, "GDPR erasure".
func eraseCustomer(ctx context.Context, tx pgx.Tx, customerID string, before time.Time) (map[string]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, eraseTimeout)
	defer cancel()
	rows, err := tx.Query(ctx, `SELECT id FROM orders WHERE customer_id = $1 AND created_at <= $2
		ORDER BY id FOR UPDATE`, customerID, before)
	if err != nil {
		return nil, fmt.Errorf("lock orders: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("lock orders: %w", err)
	}
	erased := map[string]int64{"orders": 0, "order_items": 0, "order_history": 0, "idempotency_keys": 0}
	if len(ids) == 0 {
		return erased, nil
	}
	// Children first, so that each count is of its own rows rather than
	// hidden in the orders' ON DELETE CASCADE.
	deletes := []struct{ kind, sql string }{
		{"idempotency_keys", `DELETE FROM idempotency_keys WHERE order_id = ANY($1)`},
		{"order_items", `DELETE FROM order_items WHERE order_id = ANY($1)`},
		{"order_history", `DELETE FROM order_history WHERE order_id = ANY($1)`},
		{"orders", `DELETE FROM orders WHERE id = ANY($1)`},
	}
	b := &pgx.Batch{}
	for _, d := range deletes {
		b.Queue(d.sql, ids)
	}
	results := tx.SendBatch(ctx, b)
	defer results.Close()
	for _, d := range deletes {
		tag, err := results.Exec()
		if err != nil {
			return nil, fmt.Errorf("delete %s: %w", d.kind, err)
		}
		erased[d.kind] = tag.RowsAffected()
	}
	if err := results.Close(); err != nil {
		return nil, fmt.Errorf("delete the customer's orders: %w", err)
	}
	return erased, nil
}
