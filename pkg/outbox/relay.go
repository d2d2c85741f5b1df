package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/orderbus/orderbus/pkg/group"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/telemetry"
)

// RelayConfig configures a Relay.
type RelayConfig struct {
	// Pool is the database holding the outbox table. Required.
	Pool *pgxpool.Pool
	// Publisher sends the events and waits for their PubAck. Required.
	Publisher *natsjs.Publisher
	// Logger receives publish failures (warn) and recoveries (info); nil
	// discards them.
	Logger *slog.Logger
	// Interval is how often Run looks for unpublished events; default 1s.
	Interval time.Duration
	// PublishTimeout bounds PublishNow; default 2s.
	PublishTimeout time.Duration
	// Batch is how many events Run publishes per transaction; default 100.
	Batch int
	// Metrics, when set, receives the relay's metrics (see NewRelay).
	Metrics prometheus.Registerer
	// Telemetry, when on, records a producer span around each publish,
	// continuing the trace stored with the event, and sends that span's
	// context as the traceparent; nil or off sends the stored one as is.
	Telemetry *telemetry.Telemetry
}

func (c *RelayConfig) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Interval == 0 {
		c.Interval = time.Second
	}
	if c.Batch == 0 {
		c.Batch = 100
	}
	if c.PublishTimeout == 0 {
		c.PublishTimeout = 2 * time.Second
	}
}

// Validate reports the first invalid field: Pool or Publisher missing, or
// Interval, Batch or PublishTimeout negative.
func (c RelayConfig) Validate() error {
	switch {
	case c.Pool == nil:
		return errors.New("outbox relay: Pool is required")
	case c.Publisher == nil:
		return errors.New("outbox relay: Publisher is required")
	case c.Interval < 0:
		return fmt.Errorf("outbox relay: Interval %s is negative", c.Interval)
	case c.Batch < 0:
		return fmt.Errorf("outbox relay: Batch %d is negative", c.Batch)
	case c.PublishTimeout < 0:
		return fmt.Errorf("outbox relay: PublishTimeout %s is negative", c.PublishTimeout)
	}
	return nil
}

// Relay publishes the events Enqueue stored and deletes them once acked.
// Several relays, in one process or in many instances of a service, may
// work on the same table: each row is locked while it is being published,
// and a row locked by one relay is skipped by the others, so each event is
// normally published once. Events are published oldest first by one relay;
// with several relays, or Publish racing Run, an event may overtake an older
// one. A Relay is safe for concurrent use.
type Relay struct {
	cfg     RelayConfig
	metrics *metrics // nil without RelayConfig.Metrics
	// now publishes PublishNow's concurrent calls together.
	now *group.Group[[]string, error]
}

// NewRelay returns a Relay for cfg, with defaults filled in. With
// cfg.Metrics set it registers orderbus_outbox_published_total,
// orderbus_outbox_publish_errors_total, orderbus_outbox_pending and
// orderbus_outbox_oldest_pending_seconds there (reusing them if another
// relay registered them already). It returns an error when cfg is invalid or
// the metrics cannot be registered.
func NewRelay(cfg RelayConfig) (*Relay, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Relay{cfg: cfg}
	r.now = group.NewConcurrent(maxNowGroup, nowGroups, r.publishNow)
	if cfg.Metrics != nil {
		m, err := newMetrics(cfg.Metrics)
		if err != nil {
			return nil, err
		}
		r.metrics = m
	}
	return r, nil
}

const (
	selectByIDs  = selectColumns + ` WHERE id = ANY($1) ORDER BY seq FOR UPDATE SKIP LOCKED`
	selectOldest = selectColumns + ` ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`
)

// ackWait bounds the wait for PubAcks when ctx has no deadline:
// JetStream's default timeout of a synchronous publish.
const ackWait = 5 * time.Second

// deleteTimeout bounds the delete and commit that follow PubAcks; they run
// even when ctx ends, so that acked events are not published again.
const deleteTimeout = 10 * time.Second

// Publish publishes the events with the given ids that are still waiting,
// in the order they were enqueued, and deletes each one acked. Ids that are
// unknown (already published) or locked by another relay that is publishing
// them are skipped. The events are sent pipelined; it returns the first
// failure, and the failed event and those after it stay in the outbox for
// Run. Without a deadline in ctx, the PubAcks are awaited up to 5 s
// (JetStream's default timeout).
func (r *Relay) Publish(ctx context.Context, eventIDs ...string) error {
	if len(eventIDs) == 0 {
		return nil
	}
	_, _, err := r.publish(ctx, selectByIDs, eventIDs)
	return err
}

// publish locks the rows query selects, publishes them in order until one
// fails, deletes the acked ones and commits. It returns the ids of the
// rows it selected and of those it published (a prefix of them), and the
// first error. The transaction costs two database round trips: BEGIN,
// SET LOCAL and the locking SELECT go as one batch, the DELETE and COMMIT
// as another.
func (r *Relay) publish(ctx context.Context, query string, arg any) (selected, published []string, err error) {
	conn, err := r.cfg.Pool.Acquire(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("outbox: acquire: %w", err)
	}
	// A connection left inside a transaction (an error below) is closed by
	// the pool on release, which rolls the transaction back; rollback
	// first lets the pool keep it.
	defer conn.Release()
	rollback := func() { _, _ = conn.Exec(context.WithoutCancel(ctx), "ROLLBACK") }

	b := &pgx.Batch{}
	queueLock(b, query, arg)
	br := conn.SendBatch(ctx, b)
	entries, err := readLocked(br)
	if cerr := br.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("outbox: select: %w", cerr)
	}
	if err != nil {
		rollback()
		return nil, nil, err
	}
	selected = make([]string, len(entries))
	for i, e := range entries {
		selected[i] = e.event.ID
	}
	published, err = r.publishLocked(ctx, conn, entries)
	return selected, published, err
}

// queueLock queues in b the start of a publish transaction: BEGIN, SET
// LOCAL and the locking query with arg; readLocked reads their results.
func queueLock(b *pgx.Batch, query string, arg any) {
	b.Queue("BEGIN")
	// The delete need not wait for its WAL flush: if a crash loses it, the
	// relay publishes those events again, JetStream drops the copies within
	// its duplicate window, and consumers are idempotent past it. That
	// saves the publishing request one disk flush. The transaction writes
	// nothing else.
	b.Queue("SET LOCAL synchronous_commit = off")
	b.Queue(query, arg)
}

// publishLocked publishes entries, locked by conn's open transaction,
// then deletes those acked before the first failure and commits, or rolls
// back when none was acked. It returns the ids of those it published (a
// prefix of entries) and the first error. The entries are sent pipelined (every one before the
// first PubAck is awaited), so a batch costs one round trip to NATS, not
// one per event; they reach the stream in order. An entry sent after a
// failed one may be stored too: it stays in the outbox and its next
// publish is a duplicate JetStream drops (Nats-Msg-Id).
func (r *Relay) publishLocked(ctx context.Context, conn *pgxpool.Conn, entries []entry) ([]string, error) {
	rollback := func() { _, _ = conn.Exec(context.WithoutCancel(ctx), "ROLLBACK") }
	type sent struct {
		pending *natsjs.Pending
		span    trace.Span
	}
	inFlight := make([]sent, 0, len(entries))
	var pubErr error
	for _, e := range entries {
		ev, span := r.cfg.Telemetry.StartPublish(ctx, e.subject, e.event)
		p, err := r.cfg.Publisher.PublishAsync(e.subject, ev)
		if err != nil {
			telemetry.EndSpan(span, err)
			pubErr = fmt.Errorf("outbox: %w", err)
			break
		}
		inFlight = append(inFlight, sent{pending: p, span: span})
	}
	wctx := ctx
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, ackWait)
		defer cancel()
	}
	var acked []string
	failed := pubErr != nil
	for i, s := range inFlight {
		err := s.pending.Wait(wctx)
		telemetry.EndSpan(s.span, err)
		if err != nil && !failed {
			failed = true
			pubErr = fmt.Errorf("outbox: %w", err)
		}
		if !failed {
			acked = append(acked, entries[i].event.ID)
		}
	}
	if failed {
		r.metrics.publishFailed()
	}
	if len(acked) == 0 {
		rollback()
		return nil, pubErr
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deleteTimeout)
	defer cancel()
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM outbox WHERE id = ANY($1)`, acked)
	b.Queue("COMMIT")
	br := conn.SendBatch(dctx, b)
	_, derr := br.Exec()
	tag, cerr := br.Exec()
	if err := errors.Join(derr, cerr, br.Close()); err != nil {
		rollback()
		return nil, errors.Join(pubErr, fmt.Errorf("outbox: delete %d published: %w", len(acked), err))
	}
	if tag.String() != "COMMIT" {
		return nil, errors.Join(pubErr, fmt.Errorf("outbox: commit %d published: %s", len(acked), tag))
	}
	r.metrics.published(len(acked))
	return acked, pubErr
}

// readLocked reads the results of publish's first batch: BEGIN, SET LOCAL
// and the locking select.
func readLocked(br pgx.BatchResults) ([]entry, error) {
	if _, err := br.Exec(); err != nil {
		return nil, fmt.Errorf("outbox: begin: %w", err)
	}
	if _, err := br.Exec(); err != nil {
		return nil, fmt.Errorf("outbox: relax commit: %w", err)
	}
	rows, _ := br.Query()
	entries, err := scanEntries(rows)
	if err != nil {
		return nil, fmt.Errorf("outbox: select: %w", err)
	}
	return entries, nil
}

// Run publishes every waiting event, oldest first in batches of Batch, then
// again every Interval, until ctx is done; then it returns nil. A failure
// (broker or database unreachable) is logged at warn level, once when it
// starts and then at most once a minute, and retried on the next tick, so
// Run survives outages; recovery is logged at info level.
func (r *Relay) Run(ctx context.Context) error {
	ticker := time.NewTicker(r.cfg.Interval)
	defer ticker.Stop()
	var out outage
	for {
		n, err := r.drain(ctx)
		if ctx.Err() != nil {
			return nil
		}
		out.record(r.cfg.Logger, n, err)
		r.observePending(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// drain publishes batches until a batch comes back short or fails. It
// returns the number of events published and the error, if any.
func (r *Relay) drain(ctx context.Context) (int, error) {
	total := 0
	for {
		selected, published, err := r.publish(ctx, selectOldest, r.cfg.Batch)
		total += len(published)
		if err != nil || len(selected) < r.cfg.Batch {
			return total, err
		}
	}
}

// observePending updates the pending gauges; a failure leaves them as they were.
func (r *Relay) observePending(ctx context.Context) {
	if r.metrics == nil {
		return
	}
	var (
		pending int64
		oldest  float64
	)
	err := r.cfg.Pool.QueryRow(ctx, `SELECT count(*),
		coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 FROM outbox`).Scan(&pending, &oldest)
	if err == nil {
		r.metrics.setPending(pending, oldest)
	}
}

// outageLogEvery is how often Run repeats its warning while publishing fails.
const outageLogEvery = time.Minute

// outage tracks a run of failed ticks, to log it without flooding the log.
type outage struct {
	since, logged time.Time // zero while publishing works
	failures      int
}

func (o *outage) record(logger *slog.Logger, published int, err error) {
	now := time.Now()
	switch {
	case err == nil && o.since.IsZero():
		if published > 0 {
			logger.Debug("outbox published", "published", published)
		}
	case err == nil:
		logger.Info("outbox publishing again", "published", published,
			"outage", now.Sub(o.since).Round(time.Second), "failed_attempts", o.failures)
		*o = outage{}
	case err != nil && o.since.IsZero():
		o.since, o.logged, o.failures = now, now, 1
		logger.Warn("outbox publish failed; retrying every tick", "error", err, "published", published)
	case err != nil:
		o.failures++
		if now.Sub(o.logged) >= outageLogEvery {
			o.logged = now
			logger.Warn("outbox publish still failing", "error", err,
				"since", now.Sub(o.since).Round(time.Second), "failed_attempts", o.failures)
		}
	}
}
