package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
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
