package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
)

// purgeTimeout bounds the purge of one stream.
const purgeTimeout = 5 * time.Second

// completeTimeout bounds one completion: its transaction, which holds the
// erasure's row lock across the purge of the three streams.
const completeTimeout = 5*time.Second + 3*purgeTimeout

// streamFilter is a stream and a subject filter of it.
type streamFilter struct {
	Stream, Filter string
}

// purgeFilters returns the subject filters that match every message about
// customerID, by stream. Every customer subject ends with the customer's
// token (events.SubjectToken), and a dead-lettered copy keeps its original
// subject behind dlq.<consumer>, so orders.<kind>.<customer> and
// inventory.<kind>.<customer> become dlq.<consumer>.<stream>.<kind>.<customer>.
// The GDPR stream's subjects carry no customer: its messages hold the
// customer id only, the one datum an erasure keeps as proof.
func purgeFilters(customerID string) []streamFilter {
	token := events.SubjectToken(customerID)
	return []streamFilter{
		{events.StreamOrders, "orders.*." + token},
		{events.StreamInventory, "inventory.*." + token},
		{events.StreamDLQ, "dlq.*.*.*." + token},
	}
}

// purger removes a customer's messages from the streams.
type purger struct {
	js jetstream.JetStream
}

// purge purges every message whose subject ends with customerID's token
// from ORDERS, INVENTORY and DLQ (see purgeFilters), each stream within
// purgeTimeout. Purging is idempotent: purging again removes what has been
// stored since, or nothing. It stops at the first stream that fails and
// returns its error; the streams before it stay purged.
func (p *purger) purge(ctx context.Context, customerID string) error {
	for _, f := range purgeFilters(customerID) {
		if err := p.purgeStream(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

func (p *purger) purgeStream(ctx context.Context, f streamFilter) error {
	ctx, cancel := context.WithTimeout(ctx, purgeTimeout)
	defer cancel()
	s, err := p.js.Stream(ctx, f.Stream)
	if err != nil {
		return fmt.Errorf("purge %s: %w", f.Stream, err)
	}
	if err := s.Purge(ctx, jetstream.WithPurgeSubject(f.Filter)); err != nil {
		return fmt.Errorf("purge %s of a customer's subjects: %w", f.Stream, err)
	}
	return nil
}

// completer completes erasures once every participant has answered: it
// purges the customer's messages and then marks the erasure completed
// (Store.Complete).
type completer struct {
	store   *Store
	purger  *purger
	logger  *slog.Logger
	metrics *metrics
}

// complete completes the erasure id if every participant has answered and
// it is still pending, and reports whether this call completed it;
// otherwise it does nothing. It is safe to call at any time, concurrently
// and repeatedly. A failed purge or database error is returned (and
// counted); the erasure stays pending for a retry.
func (c *completer) complete(ctx context.Context, id uuid.UUID) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, completeTimeout)
	defer cancel()
	done, err := c.store.Complete(ctx, id, c.purger.purge)
	if err != nil {
		c.metrics.completionFailures.Inc()
		return false, err
	}
	if done {
		c.metrics.erasures.WithLabelValues(erasureCompleted).Inc()
		c.logger.Info("erasure completed; the customer's messages are purged", "erasure_id", id)
	}
	return done, nil
}

// sweepInterval is how often run retries the completion of erasures that
// every participant has answered but that are still pending.
const sweepInterval = time.Minute

// sweepBatch bounds the erasures one sweep completes.
const sweepBatch = 100

// run calls sweep at once and then every interval until ctx is done. The
// completions consumer completes erasures as the last answer arrives and
// retries a failed purge with its backoff; the sweep is the safety net
// for the rare erasure whose last answer ran out of deliveries (a long
// JetStream outage) or whose service stopped between the answer's commit
// and the purge.
func (c *completer) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := c.sweep(ctx); err != nil && ctx.Err() == nil {
			c.logger.Warn("completion sweep failed; retrying next time", "error", err, "completed", n,
				"retry_in", interval.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweep completes up to sweepBatch pending erasures that every participant
// has answered, and returns how many it completed and the first error; it
// goes on after a failure, so one erasure cannot hold up the others.
func (c *completer) sweep(ctx context.Context) (int, error) {
	ids, err := c.store.Answered(ctx, sweepBatch)
	if err != nil {
		return 0, err
	}
	var (
		completed int
		first     error
	)
	for _, id := range ids {
		done, err := c.complete(ctx, id)
		if err != nil && first == nil {
			first = err
		}
		if done {
			completed++
		}
	}
	return completed, first
}
