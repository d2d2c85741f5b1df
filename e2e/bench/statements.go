package bench

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// resetStatements creates pg_stat_statements and forgets what it
// gathered so far, when Options.Statements asks for it.
func (b *bencher) resetStatements(ctx context.Context) error {
	if b.opts.Statements <= 0 {
		return nil
	}
	conn, err := pgx.Connect(ctx, b.pg.URL("postgres"))
	if err != nil {
		return fmt.Errorf("bench: statements: %w", err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		return fmt.Errorf("bench: statements: %w", err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_stat_statements_reset()`); err != nil {
		return fmt.Errorf("bench: statements: %w", err)
	}
	return nil
}

// logStatements logs the Options.Statements statements of every database
// that took the most execution time since resetStatements, with their
// calls per order of orders and mean time; the database, not the
// service, is named (each service has its own).
func (b *bencher) logStatements(ctx context.Context, orders int) error {
	if b.opts.Statements <= 0 || orders == 0 {
		return nil
	}
	conn, err := pgx.Connect(ctx, b.pg.URL("postgres"))
	if err != nil {
		return fmt.Errorf("bench: statements: %w", err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	rows, err := conn.Query(ctx, `SELECT d.datname, s.calls, s.total_exec_time, s.mean_exec_time, s.query
		FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
		ORDER BY s.total_exec_time DESC LIMIT $1`, b.opts.Statements)
	if err != nil {
		return fmt.Errorf("bench: statements: %w", err)
	}
	var (
		db, query   string
		calls       int64
		total, mean float64
	)
	b.prog.Logf("pg_stat_statements, whole system's closed loop (%d orders): database, calls/order, total ms, mean ms, statement", orders)
	_, err = pgx.ForEachRow(rows, []any{&db, &calls, &total, &mean, &query}, func() error {
		q := strings.Join(strings.Fields(query), " ")
		if len(q) > 100 {
			q = q[:100] + "…"
		}
		b.prog.Logf("  %-9s %6.2f %9.0f %7.3f  %s", db, float64(calls)/float64(orders), total, mean, q)
		return nil
	})
	if err != nil {
		return fmt.Errorf("bench: statements: %w", err)
	}
	return nil
}
