package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/outbox"
)

// statusPending is the status of a new order; the others, confirmed and
// rejected, are set when inventory answers.
const statusPending = "pending"

// errOrderNotFound is returned by Store.Order for an unknown id.
var errOrderNotFound = errors.New("order not found")

// Store reads and writes orders in PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
}

// order is an order as stored.
type order struct {
	ID        uuid.UUID
	Customer  events.Customer
	Status    string
	Items     []events.Item
	History   []historyEntry
	CreatedAt time.Time
	UpdatedAt time.Time
}

// historyEntry is one status an order has had.
type historyEntry struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	Note   string    `json:"note"`
}

// placement is everything PlaceOrder writes in one transaction.
type placement struct {
	Order   order
	Subject string       // NATS subject of Event
	Event   events.Event // the order-placed event for the outbox
	Key     *idempotencyRecord
}

// PlaceOrder stores a new pending order, its items, its first history
// entry, the order-placed event in the outbox and, when p.Key is set, the
// idempotency record, all in one transaction. When p.Key's key is already
// taken it stores nothing and returns the existing record instead; if a
// transaction holding that key is still running, it waits for it to end.
// It returns an error when a statement or the commit fails.
func (s *Store) PlaceOrder(ctx context.Context, p placement) (*idempotencyRecord, error) {
	var existing *idempotencyRecord
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if p.Key != nil {
			rec, err := claimIdempotencyKey(ctx, tx, *p.Key)
			if err != nil || rec != nil {
				existing = rec
				return err
			}
		}
		o := p.Order
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
		if err := outbox.Enqueue(ctx, tx, p.Subject, p.Event); err != nil {
			return fmt.Errorf("enqueue event for order %s: %w", o.ID, err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("place order: %w", err)
	}
	return existing, nil
}

// orderColumns selects an order with its items as a JSON array in line order.
const orderColumns = `o.id, o.customer_id::text, o.customer_name, o.customer_email, o.customer_phone,
	o.status, o.created_at, o.updated_at,
	COALESCE((SELECT json_agg(json_build_object('sku', i.sku, 'quantity', i.quantity) ORDER BY i.line)
		FROM order_items i WHERE i.order_id = o.id), '[]')`

// Order returns the order with its items and history (oldest first), read
// in one statement so they are consistent. It returns errOrderNotFound when
// there is no such order, or the query error.
func (s *Store) Order(ctx context.Context, id uuid.UUID) (order, error) {
	row := s.pool.QueryRow(ctx, `SELECT `+orderColumns+`,
		COALESCE((SELECT json_agg(json_build_object('status', h.status, 'at', h.at, 'note', h.note) ORDER BY h.at, h.id)
			FROM order_history h WHERE h.order_id = o.id), '[]')
		FROM orders o WHERE o.id = $1`, id)
	var o order
	err := row.Scan(&o.ID, &o.Customer.ID, &o.Customer.Name, &o.Customer.Email, &o.Customer.Phone,
		&o.Status, &o.CreatedAt, &o.UpdatedAt, &o.Items, &o.History)
	if errors.Is(err, pgx.ErrNoRows) {
		return order{}, errOrderNotFound
	}
	if err != nil {
		return order{}, fmt.Errorf("read order %s: %w", id, err)
	}
	return o, nil
}

// OrdersByCustomer returns up to limit orders of the customer with their
// items (no history), newest first. It returns the query error, if any.
func (s *Store) OrdersByCustomer(ctx context.Context, customerID uuid.UUID, limit int) ([]order, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+orderColumns+`
		FROM orders o WHERE o.customer_id = $1
		ORDER BY o.created_at DESC, o.id DESC LIMIT $2`, customerID, limit)
	if err != nil {
		return nil, fmt.Errorf("list orders of customer %s: %w", customerID, err)
	}
	orders, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (order, error) {
		var o order
		err := row.Scan(&o.ID, &o.Customer.ID, &o.Customer.Name, &o.Customer.Email, &o.Customer.Phone,
			&o.Status, &o.CreatedAt, &o.UpdatedAt, &o.Items)
		return o, err
	})
	if err != nil {
		return nil, fmt.Errorf("list orders of customer %s: %w", customerID, err)
	}
	return orders, nil
}
