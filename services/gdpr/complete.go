package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/outbox"
)

// completeTimeout bounds one completion step: its transaction, which holds
// the erasure's row lock across the purge of the streams.
const completeTimeout = 5*time.Second + 4*purgeTimeout

// completer moves erasures on once their participants have answered: it
// purges the customer's messages and asks for the verification, and once
// every participant has verified it marks the erasure completed.
type completer struct {
	store *Store
	// purge removes a customer's messages from the streams (purger.purge);
	// it must be idempotent, since a failed step calls it again.
	purge   func(ctx context.Context, customerID string, before time.Time) (purgeResult, error)
	relay   *outbox.Relay
	logger  *slog.Logger
	metrics *metrics
}

// complete takes the erasure id one step further, if it can, and reports
// whether this call completed it:
//
//   - pending, every participant answered, not purged yet: purge the
//     customer's messages up to the cut-off, record the purge and enqueue
//     gdpr.erasure.verify (published after the commit);
//   - purged and every participant verified: mark it completed.
//
// Safe to call at any time, concurrently and repeatedly: a lock on the
// erasure's row lets one call act. A failed purge or database error is
// returned (and counted) and changes nothing; the erasure stays pending
// for a retry. See README "Completion".
func (c *completer) complete(ctx context.Context, id uuid.UUID) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, completeTimeout)
	defer cancel()
	var (
		done   bool
		verify events.Event
	)
	err := pgx.BeginFunc(ctx, c.store.pool, func(tx pgx.Tx) error {
		st, err := lockErasure(ctx, tx, id)
		if err != nil || st.Step == stepNone {
			return err
		}
		// PostgreSQL keeps microseconds: what is answered is what is stored.
		now := time.Now().UTC().Truncate(time.Microsecond)
		if st.Step == stepPurge {
			res, err := c.purge(ctx, st.CustomerID.String(), st.RequestedAt)
			if err != nil {
				return err
			}
			verify, err = events.New(eventSource, events.TypeErasureVerify, id.String(), events.ErasureVerify{
				ErasureID: id.String(), CustomerID: st.CustomerID.String(), RequestedAt: st.RequestedAt.UTC(),
				Bounds: res.Bounds,
			})
			if err != nil {
				return fmt.Errorf("build erasure verify event: %w", err)
			}
			if err := markPurged(ctx, tx, id, now, res); err != nil {
				return err
			}
			return outbox.Enqueue(ctx, tx, events.SubjectErasureVerify, verify)
		}
		if err := markCompleted(ctx, tx, id, now); err != nil {
			return err
		}
		done = true
		return nil
	})
	if err != nil {
		c.metrics.completionFailures.Inc()
		return false, fmt.Errorf("complete erasure %s: %w", id, err)
	}
	if verify.ID != "" {
		log := c.logger.With("erasure_id", id)
		log.Info("every participant answered; the customer's messages are purged, verification asked",
			"event_id", verify.ID)
		if c.relay != nil { // nil in tests of the steps: the event stays in the outbox
			c.relay.PublishNow(ctx, log, verify.ID)
		}
	}
	if done {
		c.metrics.erasures.WithLabelValues(erasureCompleted).Inc()
		c.logger.Info("erasure completed: every participant verified", "erasure_id", id)
	}
	return done, nil
}
