package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// lockAnswered locks the erasure id's row in tx and returns its customer
// and true when it is pending and every participant has answered; false
// (and no error) for an unknown id, an erasure already completed or one
// still waiting for an answer. The lock serializes concurrent completions:
// a second caller waits for the first to commit and then finds the
// erasure completed.
func lockAnswered(ctx context.Context, tx pgx.Tx, id uuid.UUID) (uuid.UUID, bool, error) {
	var (
		customerID uuid.UUID
		status     string
		waiting    int
	)
	err := tx.QueryRow(ctx, `SELECT customer_id, status FROM erasures WHERE id = $1 FOR UPDATE`, id).
		Scan(&customerID, &status)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && status != statusPending) {
		return uuid.Nil, false, nil
	}
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("lock erasure: %w", err)
	}
	// Read after the lock: an answer committed while this call waited for
	// it is seen.
	err = tx.QueryRow(ctx, `SELECT count(*) FROM erasure_participants
		WHERE erasure_id = $1 AND state <> 'answered'`, id).Scan(&waiting)
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("count waiting participants: %w", err)
	}
	if waiting > 0 {
		return uuid.Nil, false, nil
	}
	return customerID, true, nil
}

// markCompleted marks the erasure id completed at at in tx and audits it.
func markCompleted(ctx context.Context, tx pgx.Tx, id uuid.UUID, at time.Time) error {
	b := &pgx.Batch{}
	b.Queue(`UPDATE erasures SET status = 'completed', completed_at = $2 WHERE id = $1`, id, at)
	b.Queue(`INSERT INTO erasure_audit (erasure_id, action, at) VALUES ($1, 'completed', $2)`, id, at)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("mark completed: %w", err)
	}
	return nil
}
