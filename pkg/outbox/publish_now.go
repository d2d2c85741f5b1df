package outbox

import (
	"context"
	"log/slog"
	"strings"

	"github.com/nats-io/nats.go"
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
func (r *Relay) PublishNow(ctx context.Context, logger *slog.Logger, eventIDs ...string) bool {
	ids := strings.Join(eventIDs, ",")
	if status := r.cfg.Publisher.Status(); status != nats.CONNECTED {
		logger.Warn("nats not connected; the outbox relay will publish the event",
			"outbox_event_id", ids, "nats_status", status.String())
		return false
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.PublishTimeout)
	defer cancel()
	if err := r.Publish(ctx, eventIDs...); err != nil {
		logger.Warn("publish failed; the outbox relay will retry", "outbox_event_id", ids, "error", err)
		return false
	}
	return true
}
