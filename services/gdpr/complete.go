package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// completeTimeout bounds one completion: its transaction, which holds the
// erasure's row lock across the purge of the three streams.
const completeTimeout = 5*time.Second + 3*purgeTimeout

// completer completes erasures once every participant has answered: it
// purges the customer's messages and then marks the erasure completed.
type completer struct {
	store *Store
	// purge removes a customer's messages from the streams (purger.purge);
	// it must be idempotent, since a failed completion calls it again.
	purge   func(ctx context.Context, customerID string) error
	logger  *slog.Logger
	metrics *metrics
}

// complete completes the erasure id if it is pending and every
// participant has answered, and reports whether this call completed it.
// Safe to call at any time, concurrently and repeatedly: a lock on the
// erasure's row lets one call purge and complete. A failed purge or
// database error is returned (and counted) and changes nothing; the
// erasure stays pending for a retry. See README "Completion".
func (c *completer) complete(ctx context.Context, id uuid.UUID) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, completeTimeout)
	defer cancel()
	done := false
	err := pgx.BeginFunc(ctx, c.store.pool, func(tx pgx.Tx) error {
		customerID, due, err := lockAnswered(ctx, tx, id)
		if err != nil || !due {
			return err
		}
		if err := c.purge(ctx, customerID.String()); err != nil {
			return err
		}
		// PostgreSQL keeps microseconds: what is answered is what is stored.
		if err := markCompleted(ctx, tx, id, time.Now().UTC().Truncate(time.Microsecond)); err != nil {
			return err
		}
		done = true
		return nil
	})
	if err != nil {
		c.metrics.completionFailures.Inc()
		return false, fmt.Errorf("complete erasure %s: %w", id, err)
	}
	if done {
		c.metrics.erasures.WithLabelValues(erasureCompleted).Inc()
		c.logger.Info("erasure completed; the customer's messages are purged", "erasure_id", id)
	}
	return done, nil
}
