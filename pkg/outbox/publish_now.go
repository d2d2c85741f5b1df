package outbox

import (
	"context"
	"log/slog"
	"slices"
	"strings"

	"github.com/nats-io/nats.go"
)

// Grouping of PublishNow's concurrent calls (see publishNow).
const (
	maxNowGroup = 32 // calls published together at most
	nowGroups   = 2  // groups publishing at once
)

// PublishNow publishes the events with eventIDs that the caller has just
// committed, and reports whether they all went out. It waits at most
// RelayConfig.PublishTimeout and is not canceled with ctx: the events are
// committed, so they go out even if the client hangs up. It never fails
// its caller: while NATS is not connected it does not try, and a failure
// is logged to logger at warn level; either way the events wait in the
// outbox for Run. The log lines name the events outbox_event_id, apart
// from a consumer's event_id. (An event whose row Run has locked at that
// moment is skipped and counts as published: Run is publishing it.)
//
// Concurrent calls are published together, as one locking select, one
// pipelined publish and one delete, the way consumers handling a fetched
// batch call it; a lone call runs at once.
func (r *Relay) PublishNow(ctx context.Context, logger *slog.Logger, eventIDs ...string) bool {
	ids := strings.Join(eventIDs, ",")
	if status := r.cfg.Publisher.Status(); status != nats.CONNECTED {
		logger.Warn("nats not connected; the outbox relay will publish the event",
			"outbox_event_id", ids, "nats_status", status.String())
		return false
	}
	if len(eventIDs) == 0 {
		return true
	}
	if err := r.now.Do(eventIDs); err != nil {
		logger.Warn("publish failed; the outbox relay will retry", "outbox_event_id", ids, "error", err)
		return false
	}
	return true
}

// publishNow publishes the events of calls, each a PublishNow call's ids,
// in one transaction (publish), and returns each call's error: nil when
// every one of its events was published or skipped (unknown, or locked by
// another relay), else the first failure, after which the outbox keeps
// its unpublished events for Run.
func (r *Relay) publishNow(calls [][]string) []error {
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.PublishTimeout)
	defer cancel()
	var all []string
	for _, ids := range calls {
		all = append(all, ids...)
	}
	selected, published, err := r.publish(ctx, selectByIDs, all)
	results := make([]error, len(calls))
	if err == nil {
		return results
	}
	for i, ids := range calls {
		for _, id := range ids {
			// Nothing selected: the failure came first, and is everyone's.
			if selected == nil || slices.Contains(selected, id) && !slices.Contains(published, id) {
				results[i] = err
				break
			}
		}
	}
	return results
}
