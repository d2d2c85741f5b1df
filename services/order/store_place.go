package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/pkg/web"
)

// insertOrder stores the new pending order o in tx: its row, its items and
// its first history entry. It returns the error of the statements.
func insertOrder(ctx context.Context, tx pgx.Tx, o order) error {
	skus := make([]string, len(o.Items))
	quantities := make([]int32, len(o.Items))
	for i, it := range o.Items {
		skus[i], quantities[i] = it.SKU, int32(it.Quantity)
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO orders (id, customer_id, customer_name, customer_email, customer_phone, status, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
		o.ID, o.Customer.ID, o.Customer.Name, o.Customer.Email, o.Customer.Phone, statusPending, o.CreatedAt)
	b.Queue(`INSERT INTO order_items (order_id, line, sku, quantity)
		SELECT $1, t.line, t.sku, t.quantity
		FROM unnest($2::text[], $3::integer[]) WITH ORDINALITY AS t(sku, quantity, line)`,
		o.ID, skus, quantities)
	b.Queue(`INSERT INTO order_history (order_id, status, at, note) VALUES ($1, $2, $3, $4)`,
		o.ID, statusPending, o.CreatedAt, "order placed")
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("insert order %s: %w", o.ID, err)
	}
	return nil
}

// claimIdempotencyKey inserts rec in tx and returns nil when the key was
// free. When the key is taken it returns the record holding it. A concurrent
// transaction that inserted the same key and has not committed makes the
// insert wait; if that transaction commits, its record is returned.
func claimIdempotencyKey(ctx context.Context, tx pgx.Tx, rec idempotencyRecord) (*idempotencyRecord, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (key, request_hash, status_code, response_body, order_id)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO NOTHING`,
		rec.Key, rec.RequestHash, rec.StatusCode, rec.Body, rec.OrderID)
	if err != nil {
		return nil, fmt.Errorf("insert idempotency key: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return nil, nil
	}
	// A new statement sees the row committed by the transaction we waited for.
	existing := idempotencyRecord{Key: rec.Key}
	err = tx.QueryRow(ctx, `SELECT request_hash, status_code, response_body, order_id
		FROM idempotency_keys WHERE key = $1`, rec.Key).
		Scan(&existing.RequestHash, &existing.StatusCode, &existing.Body, &existing.OrderID)
	if errors.Is(err, pgx.ErrNoRows) {
		// Deleted between our insert and select; let the client retry.
		return nil, web.NewProblem(web.ProblemConflict, http.StatusConflict,
			"The Idempotency-Key is being changed concurrently; retry the request.")
	}
	if err != nil {
		return nil, fmt.Errorf("read idempotency key: %w", err)
	}
	return &existing, nil
}
