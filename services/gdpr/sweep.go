package main

import (
	"context"
	"time"
)

// sweepInterval is how often run retries the completion of erasures that
// every participant has answered but that are still pending.
const sweepInterval = time.Minute

// sweepBatch bounds the erasures one sweep completes.
const sweepBatch = 100

// run calls sweep at once and then every interval until ctx is done: the
// safety net for an erasure whose last answer was handled without the
// completion (see README "Guarantees").
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
