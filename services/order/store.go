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
	"github.com/orderbus/orderbus/pkg/inbox"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/services/order/internal/status"
)

// statusPending is the status of a new order; internal/status has the
// rules by which it becomes confirmed or rejected.
const statusPending = string(status.Pending)

// Errors of Store methods.
var (
	// errOrderNotFound is returned by Store.Order and Store.ChangeStatus
	// for an unknown order id.
	errOrderNotFound = errors.New("order not found")
	// errCustomerMismatch is returned by Store.ChangeStatus when the
	// event names another customer than the order's.
	errCustomerMismatch = errors.New("event names another customer than the order's")
)

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

// statusChange is a change of an order's status asked for by a consumed
// event, applied by Store.ChangeStatus.
type statusChange struct {
	// Consumer and MessageID are recorded in the inbox: a message already
	// recorded for Consumer changes nothing.
	Consumer, MessageID string
	// OrderID is the order to change; CustomerID is the customer the event
	// names, which must be the order's.
	OrderID    uuid.UUID
	CustomerID uuid.UUID
	// To is the status asked for, and Note explains it in the history.
	To   status.Status
	Note string
	// Announce returns the event announcing the change and its NATS
	// subject, given the order as locked (with its customer) and the time
	// of the change.
	Announce func(o order, at time.Time) (subject string, ev events.Event, err error)
}

// Outcomes of Store.ChangeStatus.
const (
	changeApplied   = "applied"   // the order moved, and the event is in the outbox
	changeIgnored   = "ignored"   // status.CanChange refused it: the order stays as it is
	changeDuplicate = "duplicate" // the message was already handled
)

// changeResult is what Store.ChangeStatus did.
type changeResult struct {
	Outcome string        // changeApplied, changeIgnored or changeDuplicate
	From    status.Status // the order's status before (unset for a duplicate)
	At      time.Time     // when the change was applied
	EventID string        // the announcing event's id, when applied
}

// ChangeStatus applies c in one transaction: it records c.MessageID in the
// inbox of c.Consumer, locks the order, and, when status.CanChange allows
// the move, updates its status and updated_at, appends a history entry
// with c.Note and enqueues the event c.Announce returns in the outbox.
// A message already recorded changes nothing (changeDuplicate); a move the
// rules refuse records the message and changes nothing else
// (changeIgnored). It returns errOrderNotFound for an unknown order,
// errCustomerMismatch when c.CustomerID is not the order's customer
// (both roll everything back), or the error of c.Announce, a statement or
// the commit.
func (s *Store) ChangeStatus(ctx context.Context, c statusChange) (changeResult, error) {
	var res changeResult
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		isNew, err := inbox.Record(ctx, tx, c.Consumer, c.MessageID)
		if err != nil {
			return err
		}
		if !isNew {
			res.Outcome = changeDuplicate
			return nil
		}
		var o order
		err = tx.QueryRow(ctx, `SELECT id, customer_id::text, customer_name, customer_email, customer_phone, status
			FROM orders WHERE id = $1 FOR UPDATE`, c.OrderID).
			Scan(&o.ID, &o.Customer.ID, &o.Customer.Name, &o.Customer.Email, &o.Customer.Phone, &o.Status)
		if errors.Is(err, pgx.ErrNoRows) {
			return errOrderNotFound
		}
		if err != nil {
			return fmt.Errorf("lock order: %w", err)
		}
		if o.Customer.ID != c.CustomerID.String() {
			return errCustomerMismatch
		}
		res.From = status.Status(o.Status)
		if !status.CanChange(res.From, c.To) {
			res.Outcome = changeIgnored
			return nil
		}
		// PostgreSQL keeps microseconds: the event shows what is stored.
		res.At = time.Now().UTC().Truncate(time.Microsecond)
		subject, ev, err := c.Announce(o, res.At)
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		b.Queue(`UPDATE orders SET status = $2, updated_at = $3 WHERE id = $1`, o.ID, string(c.To), res.At)
		b.Queue(`INSERT INTO order_history (order_id, status, at, note) VALUES ($1, $2, $3, $4)`,
			o.ID, string(c.To), res.At, c.Note)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("update status: %w", err)
		}
		if err := outbox.Enqueue(ctx, tx, subject, ev); err != nil {
			return err
		}
		res.Outcome, res.EventID = changeApplied, ev.ID
		return nil
	})
	if err != nil {
		return changeResult{}, fmt.Errorf("change order %s to %s: %w", c.OrderID, c.To, err)
	}
	return res, nil
}
