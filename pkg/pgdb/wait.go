package pgdb

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// OpenWait is Open (with limits) retried with backoff (100 ms doubling to 5 s) for up
// to timeout while PostgreSQL is not reachable yet, as when it starts at
// the same time as the service. A malformed url fails at once. Each retry
// is logged at warn; the error is the last attempt's.
func OpenWait(ctx context.Context, logger *slog.Logger, url string, limits Limits, timeout time.Duration) (*pgxpool.Pool, error) {
	if _, err := pgxpool.ParseConfig(url); err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	delay := 100 * time.Millisecond
	for {
		pool, err := Open(ctx, url, limits)
		if err == nil {
			return pool, nil
		}
		logger.Warn("database not reachable yet; retrying", "error", err, "retry_in", delay.String())
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("open database: %w", err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// OpenMigrated opens a pool with OpenWait (with limits), waiting up to waitTimeout for
// PostgreSQL, and applies sets to it with Migrate: what a service does
// before it uses its database. It returns OpenWait's error as is, or the
// migration error wrapped as "migrate database: ..."; the pool is closed
// in that case. The caller closes the pool it returns.
func OpenMigrated(ctx context.Context, logger *slog.Logger, url string, limits Limits, waitTimeout time.Duration,
	sets ...MigrationSet) (*pgxpool.Pool, error) {
	pool, err := OpenWait(ctx, logger, url, limits, waitTimeout)
	if err != nil {
		return nil, err
	}
	if err := Migrate(ctx, pool, sets...); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	return pool, nil
}
