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
	"github.com/orderbus/orderbus/pkg/pgdb"
	"github.com/orderbus/orderbus/services/order/internal/status"
)

// statusPending is the status of a new order; internal/status has the
// rules by which it becomes confirmed or rejected.
const statusPending = string(status.Pending)

// errOrderNotFound is returned by Store.Order and lockOrder for an unknown
// order id.
var errOrderNotFound = errors.New("order not found")

// Store is the order service's database: orders with their items and
// history, idempotency keys, the inbox and the outbox. The functions
// taking a pgx.Tx are the steps of the handlers' transactions.
type Store struct {
	pool *pgxpool.Pool
	// changes runs concurrent status changes in one transaction (group
	// commit): one WAL flush for all of them.
	changes *pgdb.TxGroup
}

// newStore returns a Store on pool, whose schema must be migrated.
func newStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, changes: pgdb.NewTxGroup(pool, changeTimeout)}
}

// Ping checks that the database answers; it is the /readyz check.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
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
