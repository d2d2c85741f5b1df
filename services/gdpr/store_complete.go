package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Steps of completer.complete, as lockErasure finds an erasure.
const (
	stepNone     = iota // nothing to do: unknown, completed, or waiting for answers or verifications
	stepPurge           // every participant answered: purge and ask for verification
	stepComplete        // purged and every participant verified: mark completed
)

// erasureStep is a locked erasure and what is due for it.
type erasureStep struct {
	CustomerID  uuid.UUID
	RequestedAt time.Time
	Step        int
}

// lockErasure locks the erasure id's row in tx and returns what is due for
// it (stepNone, and no error, for an unknown id). The lock serializes
// concurrent completions: a second caller waits for the first to commit
// and then finds the step done.
func lockErasure(ctx context.Context, tx pgx.Tx, id uuid.UUID) (erasureStep, error) {
	var (
		st       erasureStep
		status   string
		purged   bool
		waiting  int
		verified int
		total    int
	)
	err := tx.QueryRow(ctx, `SELECT customer_id, requested_at, status, purged_at IS NOT NULL
		FROM erasures WHERE id = $1 FOR UPDATE`, id).Scan(&st.CustomerID, &st.RequestedAt, &status, &purged)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && status != statusPending) {
		return erasureStep{}, nil
	}
	if err != nil {
		return erasureStep{}, fmt.Errorf("lock erasure: %w", err)
	}
	// Read after the lock: an answer committed while this call waited for
	// it is seen.
	err = tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'pending'),
		count(*) FILTER (WHERE state = 'verified'), count(*)
		FROM erasure_participants WHERE erasure_id = $1`, id).Scan(&waiting, &verified, &total)
	if err != nil {
		return erasureStep{}, fmt.Errorf("count participants: %w", err)
	}
	switch {
	case waiting > 0:
	case !purged:
		st.Step = stepPurge
	case verified == total:
		st.Step = stepComplete
	}
	return st, nil
}

// markPurged records in tx that the erasure id's messages were purged at
// at, with what the purge did, and audits it.
func markPurged(ctx context.Context, tx pgx.Tx, id uuid.UUID, at time.Time, res purgeResult) error {
	b := &pgx.Batch{}
	b.Queue(`UPDATE erasures SET purged_at = $2, purge = $3 WHERE id = $1`, id, at, res)
	b.Queue(`INSERT INTO erasure_audit (erasure_id, action, at, detail) VALUES ($1, 'purged', $2, $3)`, id, at, res)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("mark purged: %w", err)
	}
	return nil
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
