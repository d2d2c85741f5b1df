// Package pgdb opens PostgreSQL connection pools and applies embedded goose
// migrations to them, safely when many instances of a service start at once.
package pgdb

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Defaults of Limits.
const (
	DefaultStatementTimeout = 10 * time.Second
	DefaultAcquireTimeout   = 5 * time.Second
	// DefaultMaxConns is the least pool size Open uses when the URL sets
	// no pool_max_conns.
	DefaultMaxConns = 16
)

// Limits bound how long a pool's users may wait on the database, so that
// a hung or unreachable server turns into an error (and, in a consumer, a
// retry) instead of a stuck call. A zero field takes its default.
type Limits struct {
	// StatementTimeout is PostgreSQL's statement_timeout, set as a runtime
	// parameter of every connection: a statement running longer, waiting
	// for a lock included, is canceled by the server (SQLSTATE 57014).
	// It applies to migrations too; one that needs longer raises it with
	// SET LOCAL statement_timeout inside its own transaction.
	StatementTimeout time.Duration
	// AcquireTimeout bounds taking a connection from the pool: both the
	// wait for a free one when all are busy and the making of a new one
	// (dial, TLS and authentication; it is the connections'
	// connect_timeout unless the URL sets one). pgxpool has no setting for
	// the wait, so the pool's AcquireTracer hook, whose returned context
	// the pool uses for the acquisition, adds the deadline (see
	// acquireDeadline). A caller's own earlier deadline still applies.
	AcquireTimeout time.Duration
	// Tracer, when not nil, also traces every query, batch and connect of
	// the pool (telemetry.PgxTracer: a span per query under the caller's
	// span). Not a limit, but Limits is what Open takes besides the URL.
	Tracer pgx.QueryTracer
}

func (l Limits) withDefaults() Limits {
	if l.StatementTimeout <= 0 {
		l.StatementTimeout = DefaultStatementTimeout
	}
	if l.AcquireTimeout <= 0 {
		l.AcquireTimeout = DefaultAcquireTimeout
	}
	return l
}

// Open connects a pgxpool to url (a postgres:// URL or key=value DSN) with
// limits (see Limits) and pings the server once. It does not retry: a
// caller that must wait for the database retries Open itself. It returns
// an error when url does not parse or the ping fails; the pool is closed
// in that case.
func Open(ctx context.Context, url string, limits Limits) (*pgxpool.Pool, error) {
	cfg, err := poolConfig(url, limits)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create pool for %s/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Database, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ping %s/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Database, err)
	}
	return pool, nil
}

// poolConfig parses url and applies limits to it.
func poolConfig(url string, limits Limits) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx redacts the password in its parse error.
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	limits = limits.withDefaults()
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(max(1, limits.StatementTimeout.Milliseconds()), 10)
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = limits.AcquireTimeout
	}
	cfg.ConnConfig.Tracer = acquireDeadline(limits.AcquireTimeout)
	if limits.Tracer != nil {
		// The acquire deadline first: the multitracer passes the context
		// each tracer returns on to the next.
		cfg.ConnConfig.Tracer = multitracer.New(acquireDeadline(limits.AcquireTimeout), limits.Tracer)
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgxpool's default, max(4, CPUs), is 4 on a small machine: fewer
		// than the 8 requests or messages a service handles at once, each
		// holding a connection while it waits for a commit's flush or a
		// PubAck. Connections are opened on demand only.
		cfg.MaxConns = max(cfg.MaxConns, DefaultMaxConns)
	}
	return cfg, nil
}
