package pgdb_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/pgdb"
	"github.com/orderbus/orderbus/pkg/stack"
)

func TestIsUnavailableCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "nil", err: nil, want: false},
		{name: "too many connections", err: &pgconn.PgError{Code: "53300"}, want: true},
		{name: "admin shutdown", err: &pgconn.PgError{Code: "57P01"}, want: true},
		{name: "cannot connect now", err: &pgconn.PgError{Code: "57P03"}, want: true},
		{name: "statement timeout", err: &pgconn.PgError{Code: "57014"}, want: true},
		{name: "connection failure", err: &pgconn.PgError{Code: "08006"}, want: true},
		{name: "disk full", err: &pgconn.PgError{Code: "53100"}, want: true},
		{name: "io error", err: &pgconn.PgError{Code: "58030"}, want: true},
		{name: "read-only after failover", err: &pgconn.PgError{Code: "25006"}, want: true},
		{name: "serialization failure", err: &pgconn.PgError{Code: "40001"}, want: false},
		{name: "deadlock", err: &pgconn.PgError{Code: "40P01"}, want: false},
		{name: "unique violation", err: &pgconn.PgError{Code: "23505"}, want: false},
		{name: "syntax error", err: &pgconn.PgError{Code: "42601"}, want: false},
		{name: "wrapped server error", err: fmt.Errorf("reserve: %w", &pgconn.PgError{Code: "57P01"}), want: true},
		{name: "deadline", err: fmt.Errorf("query: %w", context.DeadlineExceeded), want: true},
		{name: "canceled: a shutdown", err: fmt.Errorf("query: %w", context.Canceled), want: false},
		{name: "closed connection", err: fmt.Errorf("exec: %w", pgconn.ErrConnClosed), want: true},
		{name: "plain error", err: errors.New("lower stock: 1 of 2 rows updated"), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := pgdb.IsUnavailable(tt.err); got != tt.want {
				t.Errorf("IsUnavailable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	down := fmt.Errorf("store: %w", &pgconn.PgError{Code: "57P01"})
	tests := []struct {
		name          string
		err           error
		wantDep       string // "" for none
		wantPermanent bool
	}{
		{name: "unavailable marked", err: down, wantDep: pgdb.Dependency},
		{name: "statement error left as is", err: &pgconn.PgError{Code: "23505"}},
		{name: "deadlock left as is", err: &pgconn.PgError{Code: "40P01"}},
		{name: "permanent kept", err: natsjs.Permanent(down), wantPermanent: true},
		{name: "other dependency kept", err: natsjs.Unavailable("smtp", down), wantDep: "smtp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := pgdb.Classify(tt.err)
			if !errors.Is(got, tt.err) {
				t.Errorf("Classify(%v) = %v, which no longer matches the error", tt.err, got)
			}
			dep, _ := natsjs.DependencyOf(got)
			if dep != tt.wantDep || natsjs.IsPermanent(got) != tt.wantPermanent {
				t.Errorf("Classify(%v): dependency %q, permanent %v; want %q, %v",
					tt.err, dep, natsjs.IsPermanent(got), tt.wantDep, tt.wantPermanent)
			}
		})
	}
	if pgdb.Classify(nil) != nil {
		t.Error("Classify(nil) is not nil")
	}
}

// TestIsUnavailableFromServer provokes each kind of outage on a real
// server and checks what pgx returns for it.
func TestIsUnavailableFromServer(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	port, release, err := stack.RefusingPort() // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	_, err = pgdb.Open(ctx, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/x?sslmode=disable", port), pgdb.Limits{})
	if !pgdb.IsUnavailable(err) {
		t.Errorf("connection refused: IsUnavailable(%v) = false", err)
	}

	url := cluster.NewDatabase(t)
	pool, err := pgdb.Open(ctx, url, pgdb.Limits{StatementTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	_, err = pool.Exec(ctx, "SELECT pg_sleep(5)")
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); !ok || pgErr.Code != "57014" {
		t.Errorf("a statement over DB_STATEMENT_TIMEOUT: error %v, want SQLSTATE 57014", err)
	}
	if !pgdb.IsUnavailable(err) {
		t.Errorf("statement timeout: IsUnavailable(%v) = false", err)
	}

	_, err = pool.Exec(ctx, "SELECT no_such_column FROM pg_class")
	if err == nil || pgdb.IsUnavailable(err) {
		t.Errorf("a wrong statement: error %v, IsUnavailable true or no error", err)
	}

	// A session terminated by an administrator.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, "SELECT 1")
	conn.Release()
	if err == nil || !pgdb.IsUnavailable(err) {
		t.Errorf("terminated session: IsUnavailable(%v) = false", err)
	}

	// A database that refuses connections.
	admin := cluster.NewPool(t) // another database of the same server, as superuser
	name := pool.Config().ConnConfig.Database
	if _, err := admin.Exec(ctx, fmt.Sprintf(`ALTER DATABASE %q WITH ALLOW_CONNECTIONS false`, name)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), fmt.Sprintf(`ALTER DATABASE %q WITH ALLOW_CONNECTIONS true`, name))
	})
	_, err = pgdb.Open(ctx, url, pgdb.Limits{})
	if err == nil || !pgdb.IsUnavailable(err) {
		t.Errorf("database not accepting connections: IsUnavailable(%v) = false", err)
	}
}
