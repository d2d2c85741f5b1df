package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/services/order/internal/status"
)

// lockOrder reads the order id with its customer and status in tx and
// locks its row until tx ends. It returns errOrderNotFound for an unknown
// id, or the query error.
func lockOrder(ctx context.Context, tx pgx.Tx, id uuid.UUID) (order, error) {
	var o order
	err := tx.QueryRow(ctx, `SELECT id, customer_id::text, customer_name, customer_email, customer_phone, status, created_at
		FROM orders WHERE id = $1 FOR UPDATE`, id).
		Scan(&o.ID, &o.Customer.ID, &o.Customer.Name, &o.Customer.Email, &o.Customer.Phone, &o.Status, &o.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return order{}, errOrderNotFound
	}
	if err != nil {
		return order{}, fmt.Errorf("lock order %s: %w", id, err)
	}
	return o, nil
}

// setStatus sets the status of order id to to and its updated_at to at in
// tx, and appends a history entry with note. It returns the statements'
// error.
func setStatus(ctx context.Context, tx pgx.Tx, id uuid.UUID, to status.Status, at time.Time, note string) error {
	b := &pgx.Batch{}
	b.Queue(`UPDATE orders SET status = $2, updated_at = $3 WHERE id = $1`, id, string(to), at)
	b.Queue(`INSERT INTO order_history (order_id, status, at, note) VALUES ($1, $2, $3, $4)`,
		id, string(to), at, note)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("set status of order %s to %s: %w", id, to, err)
	}
	return nil
}
