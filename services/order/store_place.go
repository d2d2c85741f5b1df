package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/orderbus/orderbus/pkg/erasure"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/web"
)

// insertOrder stores the new pending order o in tx: its row, its items and
// its first history entry. It returns the error of the statements.
func insertOrder(ctx context.Context, tx pgx.Tx, o order) error {
	b := &pgx.Batch{}
	queueInsertOrder(b, o)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("insert order %s: %w", o.ID, err)
	}
	return nil
}

// queueInsertOrder queues in b the three inserts of insertOrder, after the
// erasure check (erasure.QueueGuardNew): an order timed before an erasure
// of its customer that committed meanwhile is not stored.
func queueInsertOrder(b *pgx.Batch, o order) {
	erasure.QueueGuardNew(b, o.Customer.ID, o.CreatedAt)
	skus := make([]string, len(o.Items))
	quantities := make([]int32, len(o.Items))
	for i, it := range o.Items {
		skus[i], quantities[i] = it.SKU, int32(it.Quantity)
	}
	b.Queue(`INSERT INTO orders (id, customer_id, customer_name, customer_email, customer_phone, status, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
		o.ID, o.Customer.ID, o.Customer.Name, o.Customer.Email, o.Customer.Phone, statusPending, o.CreatedAt)
	b.Queue(`INSERT INTO order_items (order_id, line, sku, quantity)
		SELECT $1, t.line, t.sku, t.quantity
		FROM unnest($2::text[], $3::integer[]) WITH ORDINALITY AS t(sku, quantity, line)`,
		o.ID, skus, quantities)
	b.Queue(`INSERT INTO order_history (order_id, status, at, note) VALUES ($1, $2, $3, $4)`,
		o.ID, statusPending, o.CreatedAt, "order placed")
}

// insertIdempotencySQL claims a key; without ON CONFLICT, so that a taken
// key fails the statement (and the batch's implicit transaction).
const insertIdempotencySQL = `INSERT INTO idempotency_keys (customer_id, key, request_hash, status_code, response_body, order_id)
		VALUES ($1, $2, $3, $4, $5, $6)`

// uniqueViolation is PostgreSQL's SQLSTATE unique_violation.
const uniqueViolation = "23505"

// errKeyTaken is returned by placeFast when p's idempotency key is taken.
var errKeyTaken = errors.New("idempotency key taken")

// placeFast stores p in one transaction and publishes its event once the
// transaction has committed (outbox.Relay.CommitAndPublish: the commit and
// the locking of the outbox row for the publish are one round trip). It
// reports whether the event went out (when not, the relay publishes it
// later). It returns errKeyTaken when p.Key's key is taken (by a committed
// transaction, or by a concurrent one that commits while the insert waits
// for it): nothing is stored then and the caller reads the existing record
// in a transaction (placeOrder). Any other error is that of a statement or
// the commit; nothing is stored then either.
func placeFast(ctx context.Context, logger *slog.Logger, store *Store, relay *outbox.Relay, p placement) (bool, error) {
	b := &pgx.Batch{}
	if err := queuePlacement(ctx, b, p); err != nil {
		return false, err
	}
	_, published, err := relay.CommitAndPublish(ctx, logger, b, p.Event.ID)
	var pgErr *pgconn.PgError
	if p.Key != nil && errors.As(err, &pgErr) && pgErr.Code == uniqueViolation && pgErr.TableName == "idempotency_keys" {
		return false, errKeyTaken
	}
	if err != nil {
		return false, fmt.Errorf("insert order %s: %w", p.Order.ID, err)
	}
	return published, nil
}

// queuePlacement queues in b everything placeFast stores for p: the
// idempotency key when p.Key is set, the order (queueInsertOrder) and its
// event in the outbox, stamped with ctx's trace context. It returns an
// error, and may have queued part, when the event cannot be enqueued.
func queuePlacement(ctx context.Context, b *pgx.Batch, p placement) error {
	if p.Key != nil {
		b.Queue(insertIdempotencySQL, p.Key.CustomerID, p.Key.Key, p.Key.RequestHash, p.Key.StatusCode, p.Key.Body, p.Key.OrderID)
	}
	queueInsertOrder(b, p.Order)
	if err := outbox.QueueEnqueue(ctx, b, p.Subject, p.Event); err != nil {
		return fmt.Errorf("enqueue event for order %s: %w", p.Order.ID, err)
	}
	return nil
}

// claimIdempotencyKey inserts rec in tx and returns nil when the key was
// free. When the key is taken it returns the record holding it. A concurrent
// transaction that inserted the same key and has not committed makes the
// insert wait; if that transaction commits, its record is returned.
func claimIdempotencyKey(ctx context.Context, tx pgx.Tx, rec idempotencyRecord) (*idempotencyRecord, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (customer_id, key, request_hash, status_code, response_body, order_id)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (customer_id, key) DO NOTHING`,
		rec.CustomerID, rec.Key, rec.RequestHash, rec.StatusCode, rec.Body, rec.OrderID)
	if err != nil {
		return nil, fmt.Errorf("insert idempotency key: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return nil, nil
	}
	// A new statement sees the row committed by the transaction we waited for.
	existing := idempotencyRecord{CustomerID: rec.CustomerID, Key: rec.Key}
	err = tx.QueryRow(ctx, `SELECT request_hash, status_code, response_body, order_id
		FROM idempotency_keys WHERE customer_id = $1 AND key = $2`, rec.CustomerID, rec.Key).
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
