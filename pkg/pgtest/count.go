package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Count returns how many rows of table in db match where, a SQL condition
// on args ("" counts every row). It fails tb when the query fails. table
// and where are SQL text: pass constants, never input. It does not use
// tb.Context(), which ends before cleanups and a parallel subtest may
// still count with its parent.
func Count(tb testing.TB, db *pgxpool.Pool, table, where string, args ...any) int {
	tb.Helper()
	q := "SELECT count(*) FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	var n int
	if err := db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		tb.Fatalf("count %s: %v", table, err)
	}
	return n
}
