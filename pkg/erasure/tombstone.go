package erasure

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/pgdb"
	"github.com/orderbus/orderbus/pkg/promreg"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations returns the migration set, named "erasure", that creates the
// tombstone and suppression tables every participant needs. Apply it with
// pgdb.Migrate (in the service's migrationSets) before using a Guard or a
// Participant.
func Migrations() pgdb.MigrationSet {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		// fs.Sub fails only for an invalid path, and this one is constant.
		panic(fmt.Sprintf("erasure: migrations folder: %v", err))
	}
	return pgdb.MigrationSet{Name: "erasure", FS: sub}
}

// lockKey is the advisory lock key of a customer's erasures: effects take
// it shared, an erasure and its verification exclusive, so an effect
// either commits before the erasure (and is erased by it) or sees its
// tombstone. The SQL functions of the migrations (erasure_guard_new,
// erasure_guard_check) take it with the same key.
const lockKey = `hashtextextended('orderbus-erasure:' || $1::text, 0)`

// lockExclusive takes customerID's erasure lock exclusive in tx, until tx
// ends: it waits for every effect transaction of the customer in flight.
func lockExclusive(ctx context.Context, tx pgx.Tx, customerID string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(`+lockKey+`)`, customerID); err != nil {
		return fmt.Errorf("lock the customer's erasures: %w", err)
	}
	return nil
}

// Guard keeps an erased customer's data from being written again: every
// effect of a participant calls Check in its transaction, and the DLQ asks
// SuppressDeadLetter (natsjs.DeadLetterGuard) before storing a copy.
type Guard struct {
	pool       *pgxpool.Pool
	suppressed *prometheus.CounterVec
}

// NewGuard returns a Guard on pool (which must hold Migrations' tables)
// and registers orderbus_erasure_suppressed_total with reg (nil: none).
// It returns the registration error, if any.
func NewGuard(pool *pgxpool.Pool, reg prometheus.Registerer) (*Guard, error) {
	c, err := promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orderbus_erasure_suppressed_total",
		Help: "Events about an erased customer's order acknowledged without their effect, or given up on without a dead letter, by consumer.",
	}, []string{"consumer"}))
	if err != nil {
		return nil, fmt.Errorf("erasure guard: %w", err)
	}
	return &Guard{pool: pool, suppressed: c}, nil
}

// erasedIn reports whether customerID has a tombstone covering placedAt
// (see QueueErased), read through q.
func erasedIn(ctx context.Context, q interface {
	SendBatch(context.Context, *pgx.Batch) pgx.BatchResults
}, customerID string, placedAt time.Time) (bool, error) {
	var erased bool
	b := &pgx.Batch{}
	QueueErased(b, customerID, placedAt, &erased)
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return false, err
	}
	return erased, nil
}

// QueueErased queues in b the lookup Guard.Erased makes, without a lock:
// whether customerID has a tombstone whose cut-off is at or after
// placedAt (a zero placedAt, an event that does not say, counts as
// before). It sets *erased when b's results are read, so that a consumer
// reads it in the same round trip as its own state.
func QueueErased(b *pgx.Batch, customerID string, placedAt time.Time, erased *bool) {
	b.Queue(`SELECT erased_before FROM erasure_tombstones WHERE customer_id = $1`, customerID).
		QueryRow(func(row pgx.Row) error {
			var before time.Time
			err := row.Scan(&before)
			if errors.Is(err, pgx.ErrNoRows) {
				*erased = false
				return nil
			}
			if err != nil {
				return fmt.Errorf("read tombstone: %w", err)
			}
			*erased = placedAt.IsZero() || !placedAt.After(before)
			return nil
		})
}

// Check takes customerID's erasure lock (shared) in tx and reports whether
// the event eventID, about an order of customerID placed at placedAt, is
// erased: the customer has a tombstone whose cut-off is at or after
// placedAt (a zero placedAt counts as before). When it is, Check records
// the suppression in tx (erasure_suppressed, for consumer) and counts it;
// the caller must then acknowledge the event without writing anything
// personal (commit tx with the inbox record only). It returns the error
// of a statement.
func (g *Guard) Check(ctx context.Context, tx pgx.Tx, consumer, eventID, customerID string, placedAt time.Time) (bool, error) {
	var at *time.Time
	if !placedAt.IsZero() {
		at = &placedAt
	}
	// One round trip: erasure_guard_check (migration 00003) locks, then
	// reads the tombstone in a statement of its own, after the lock.
	var erased bool
	if err := tx.QueryRow(ctx, `SELECT erasure_guard_check($1, $2, $3, $4)`, consumer, eventID, customerID, at).
		Scan(&erased); err != nil {
		return false, fmt.Errorf("check the customer's erasure: %w", err)
	}
	if erased {
		g.suppressed.WithLabelValues(consumer).Inc()
	}
	return erased, nil
}

// Erased reports, without a lock, whether an order of customerID placed
// at placedAt is erased: for a side effect outside the database (a mail,
// an SMS) that need not be sent. Check, in the transaction that records
// the effect, stays the one that counts. It returns the query's error.
func (g *Guard) Erased(ctx context.Context, customerID string, placedAt time.Time) (bool, error) {
	return erasedIn(ctx, g.pool, customerID, placedAt)
}

// SuppressDeadLetter implements natsjs.DeadLetterGuard: a message on a
// customer subject (orders.*.<customer>, inventory.*.<customer>) about an
// order the customer's tombstone covers (the body's placed_at, or none)
// is not copied to the DLQ, and counted for the "dlq" consumer. Messages
// on other subjects, and bodies that are no JSON object, are copied.
func (g *Guard) SuppressDeadLetter(ctx context.Context, subject string, data []byte) (bool, error) {
	if !strings.HasPrefix(subject, "orders.") && !strings.HasPrefix(subject, "inventory.") {
		return false, nil
	}
	customerID := subject[strings.LastIndexByte(subject, '.')+1:]
	if !events.ValidUUID(customerID) {
		return false, nil
	}
	var body struct {
		PlacedAt time.Time `json:"placed_at"`
	}
	if err := json.Unmarshal(data, &body); err != nil {
		return false, nil
	}
	erased, err := erasedIn(ctx, g.pool, customerID, body.PlacedAt)
	if err != nil || !erased {
		return false, err
	}
	g.suppressed.WithLabelValues("dlq").Inc()
	return true, nil
}

// writeTombstone records, in tx, that customerID is erased up to before
// (keeping a later cut-off already recorded) by erasureID.
func writeTombstone(ctx context.Context, tx pgx.Tx, customerID, erasureID string, before time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO erasure_tombstones (customer_id, erased_before, erasure_id)
		VALUES ($1, $2, $3)
		ON CONFLICT (customer_id) DO UPDATE SET erased_before = GREATEST(erasure_tombstones.erased_before, EXCLUDED.erased_before),
			erasure_id = EXCLUDED.erasure_id, erased_at = now()`, customerID, before, erasureID)
	if err != nil {
		return fmt.Errorf("write tombstone: %w", err)
	}
	return nil
}

// suppressedCount returns how many events about customerID tx's service
// has suppressed.
func suppressedCount(ctx context.Context, tx pgx.Tx, customerID string) (int64, error) {
	var n int64
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM erasure_suppressed WHERE customer_id = $1`, customerID).
		Scan(&n); err != nil {
		return 0, fmt.Errorf("count suppressed events: %w", err)
	}
	return n, nil
}

// sqlStateErasedMeanwhile is raised by erasure_guard_new (see QueueGuardNew).
const sqlStateErasedMeanwhile = "OB001"

// QueueGuardNew queues in b the check that a new record about customerID
// timed at (an order being placed, with its placed_at) must pass in its
// transaction: it takes the customer's erasure lock (shared) and fails,
// rolling the transaction back, with an error for which ErasedMeanwhile
// is true when an erasure whose cut-off is at or after at has committed
// meanwhile: the record would belong to what is erased. The caller asks
// the client to retry, which times the record anew, after the erasure.
func QueueGuardNew(b *pgx.Batch, customerID string, at time.Time) {
	b.Queue(`SELECT erasure_guard_new($1, $2)`, customerID, at)
}

// ErasedMeanwhile reports whether err is the failure of QueueGuardNew's
// check.
func ErasedMeanwhile(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == sqlStateErasedMeanwhile
}
