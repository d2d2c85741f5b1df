package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
)

// CommitAndPublish runs the statements queued in change as one
// transaction and, once it has committed, publishes the events with
// eventIDs, which change must Enqueue (QueueEnqueue), like PublishNow. The
// commit and the locking of the new outbox rows go to the database in one
// round trip (the COMMIT completes, flushed as synchronous_commit says,
// before the next transaction starts), so an order costs two round trips
// to the database instead of three. change's statements are checked for
// errors only (their callbacks are not run).
//
// committed reports whether change committed; err is the first error of
// change's statements (a *StatementError naming which) or of the commit
// (then nothing was stored, and nothing published). published reports whether every event went out;
// after the commit a failure never becomes err: it is logged to logger at
// warn level and the events wait in the outbox for Run, as with
// PublishNow. The publishing waits at most RelayConfig.PublishTimeout and
// is not canceled with ctx.
func (r *Relay) CommitAndPublish(ctx context.Context, logger *slog.Logger, change *pgx.Batch, eventIDs ...string) (committed, published bool, err error) {
	conn, err := r.cfg.Pool.Acquire(ctx)
	if err != nil {
		return false, false, fmt.Errorf("acquire: %w", err)
	}
	defer conn.Release() // closes a connection left in a transaction
	rollback := func() { _, _ = conn.Exec(context.WithoutCancel(ctx), "ROLLBACK") }

	ids := strings.Join(eventIDs, ",")
	connected := r.cfg.Publisher.Status() == nats.CONNECTED
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.QueuedQueries = append(b.QueuedQueries, change.QueuedQueries...)
	b.Queue("COMMIT")
	if connected {
		queueLock(b, selectByIDs, eventIDs)
	}
	br := conn.SendBatch(ctx, b)
	for i := range len(change.QueuedQueries) + 1 {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			rollback()
			if i > 0 {
				err = &StatementError{Index: i - 1, Err: err}
			}
			return false, false, err
		}
	}
	tag, err := br.Exec()
	if err != nil || tag.String() != "COMMIT" {
		_ = br.Close()
		rollback()
		if err == nil {
			err = fmt.Errorf("commit: transaction rolled back (%s)", tag)
		}
		return false, false, err
	}
	if !connected {
		_ = br.Close()
		logger.Warn("nats not connected; the outbox relay will publish the event",
			"outbox_event_id", ids, "nats_status", r.cfg.Publisher.Status().String())
		return true, false, nil
	}
	entries, err := readLocked(br)
	if cerr := br.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("outbox: select: %w", cerr)
	}
	if err != nil {
		rollback()
		logger.Warn("publish failed; the outbox relay will retry", "outbox_event_id", ids, "error", err)
		return true, false, nil
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.PublishTimeout)
	defer cancel()
	if _, err := r.publishLocked(pctx, conn, entries); err != nil {
		logger.Warn("publish failed; the outbox relay will retry", "outbox_event_id", ids, "error", err)
		return true, false, nil
	}
	return true, true, nil
}

// StatementError is the failure of one of the statements CommitAndPublish
// ran: Index is its position among change's queued statements, so that a
// caller that queued several callers' work can tell whose failed.
type StatementError struct {
	Index int
	Err   error
}

// Error returns the statement's error with its position.
func (e *StatementError) Error() string {
	return fmt.Sprintf("statement %d: %v", e.Index, e.Err)
}

// Unwrap returns the statement's error.
func (e *StatementError) Unwrap() error { return e.Err }
