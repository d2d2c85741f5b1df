package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/services/inventory/internal/stock"
)

// Reservation statuses as stored in reservations.
const (
	statusReserved = "reserved"
	statusRejected = "rejected"
)

// reserveTimeout bounds one reservation transaction, waiting for locks
// included: the consumer does not cancel a handler's context at shutdown.
const reserveTimeout = 10 * time.Second

// orderLockClass is the first key of the transaction-scoped advisory lock
// taken on an order id (the second is the id's hash). The two-key lock
// space does not overlap pgdb.Migrate's one-key locks.
const orderLockClass int32 = 0x696e76 // "inv"

// reservationRequest is an order placed event as far as stock is concerned.
type reservationRequest struct {
	EventID    string
	OrderID    string
	CustomerID string
	Lines      []stock.Line // normalized: one per SKU, sorted by SKU
	PlacedAt   time.Time    // the order's; zero when the event does not say
}

// reservation is what reserveStock decided, and the announcement the
// handler enqueued for it.
type reservation struct {
	// Outcome is outcomeReserved, outcomeRejected or outcomeDuplicate.
	Outcome string
	// Status is the order's reservation status: the new one, or for a
	// duplicate order the one already stored; "" for a duplicate event.
	Status string
	// Missing lists the SKUs that made a new reservation rejected.
	Missing []string
	// At is when a new reservation was decided, as PostgreSQL stores it.
	At time.Time
	// EventID is the id of the announcement enqueued; "" for a duplicate.
	EventID string
}

// reserveStock decides on req's order in tx and stores the decision:
//
//   - an order that already has a reservation, made from another event for
//     the same order, changes nothing (outcome duplicate, with the stored
//     status);
//   - otherwise the stock rows of the order's SKUs are locked in SKU order,
//     so that concurrent reservations cannot deadlock, and stock.Decide
//     applies the all-or-nothing rule: a reserved order lowers the stock of
//     every line and stores its lines; a rejected one leaves the stock as
//     it is and stores the missing SKUs.
//
// Transactions deciding on one order are serialized by an advisory lock
// on the order id, so two events for one order never both reserve; the
// reservations primary key backs that up. Stock cannot go negative: the
// levels are read under the row locks the updates hold until commit, and a
// CHECK refuses a negative level. It returns an error when a statement
// fails; the caller rolls tx back and retries.
func reserveStock(ctx context.Context, tx pgx.Tx, req reservationRequest) (reservation, error) {
	var res reservation
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, orderLockClass, req.OrderID); err != nil {
		return res, fmt.Errorf("lock order: %w", err)
	}
	err := tx.QueryRow(ctx, `SELECT status FROM reservations WHERE order_id = $1`, req.OrderID).Scan(&res.Status)
	if err == nil {
		res.Outcome = outcomeDuplicate
		return res, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return res, fmt.Errorf("read reservation: %w", err)
	}

	available, err := lockStock(ctx, tx, stock.SKUs(req.Lines))
	if err != nil {
		return res, err
	}
	d := stock.Decide(req.Lines, available)
	res.At = time.Now().UTC().Truncate(time.Microsecond) // as PostgreSQL keeps it
	if d.Reserve {
		res.Outcome, res.Status = outcomeReserved, statusReserved
		err = storeReserved(ctx, tx, req, d.Lines, res.At)
	} else {
		res.Outcome, res.Status, res.Missing = outcomeRejected, statusRejected, d.Missing
		_, err = tx.Exec(ctx, `INSERT INTO reservations (order_id, customer_id, status, missing_skus, created_at, placed_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, req.OrderID, req.CustomerID, statusRejected, d.Missing, res.At, placedAt(req.PlacedAt))
	}
	if err != nil {
		return reservation{}, fmt.Errorf("store %s reservation: %w", res.Status, err)
	}
	return res, nil
}

// lockStock locks the stock rows of skus, in SKU order, until tx ends and
// returns their levels; unknown SKUs are absent from the map.
func lockStock(ctx context.Context, tx pgx.Tx, skus []string) (map[string]int, error) {
	// The rows are locked as the sort returns them: every transaction
	// locks in the same order.
	rows, err := tx.Query(ctx, `SELECT sku, available FROM stock WHERE sku = ANY($1)
		ORDER BY sku COLLATE "C" FOR UPDATE`, skus)
	if err != nil {
		return nil, fmt.Errorf("lock stock: %w", err)
	}
	available := make(map[string]int, len(skus))
	var (
		sku string
		n   int
	)
	_, err = pgx.ForEachRow(rows, []any{&sku, &n}, func() error {
		available[sku] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lock stock: %w", err)
	}
	return available, nil
}

// storeReserved takes lines from the locked stock and stores the reserved
// reservation with its lines.
func storeReserved(ctx context.Context, tx pgx.Tx, req reservationRequest, lines []stock.Line, at time.Time) error {
	skus := stock.SKUs(lines)
	quantities := make([]int32, len(lines))
	for i, l := range lines {
		quantities[i] = int32(l.Quantity) // at most the level just read, itself an integer
	}
	tag, err := tx.Exec(ctx, `UPDATE stock AS s SET available = s.available - t.quantity, updated_at = $3
		FROM unnest($1::text[], $2::integer[]) AS t(sku, quantity)
		WHERE s.sku = t.sku`, skus, quantities, at)
	if err != nil {
		return fmt.Errorf("lower stock: %w", err)
	}
	if int(tag.RowsAffected()) != len(lines) {
		return fmt.Errorf("lower stock: %d of %d rows updated", tag.RowsAffected(), len(lines))
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO reservations (order_id, customer_id, status, created_at, placed_at) VALUES ($1, $2, $3, $4, $5)`,
		req.OrderID, req.CustomerID, statusReserved, at, placedAt(req.PlacedAt))
	b.Queue(`INSERT INTO reservation_lines (order_id, sku, quantity)
		SELECT $1, t.sku, t.quantity FROM unnest($2::text[], $3::integer[]) AS t(sku, quantity)`,
		req.OrderID, skus, quantities)
	return tx.SendBatch(ctx, b).Close()
}

// placedAt returns t, or nil when zero (an event that does not say).
func placedAt(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
