package pgdb_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderbus/orderbus/pkg/pgdb"
	"github.com/orderbus/orderbus/pkg/pgtest"
	"github.com/orderbus/orderbus/pkg/stack"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { pgtest.Main(m, &cluster) }

func TestOpen(t *testing.T) {
	t.Parallel()
	port, release, err := stack.RefusingPort() // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	tests := []struct {
		name    string
		url     string
		wantErr bool
	}{
		{name: "fresh database", url: cluster.NewDatabase(t)},
		{name: "nothing listening", url: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/x?sslmode=disable", port), wantErr: true},
		{name: "not a url", url: "postgres://%zz", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			pool, err := pgdb.Open(ctx, tt.url, pgdb.Limits{})
			if tt.wantErr {
				if err == nil {
					pool.Close()
					t.Fatal("Open succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			var one int
			if err := pool.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
				t.Errorf("SELECT 1 = %d, %v", one, err)
			}
		})
	}
}

// migrations builds a set whose every migration appends its version to the
// table applied, so a migration run twice shows up as a duplicate row.
func migrations(name string, versions ...int) pgdb.MigrationSet {
	fsys := fstest.MapFS{}
	for _, v := range versions {
		up := fmt.Sprintf("INSERT INTO applied (set_name, version) VALUES ('%s', %d);", name, v)
		if v == 1 {
			up = "CREATE TABLE IF NOT EXISTS applied (set_name text, version int);\n" + up
		}
		fsys[fmt.Sprintf("%05d_step.sql", v)] = &fstest.MapFile{Data: []byte(
			"-- +goose Up\n" + up + "\n-- +goose Down\nSELECT 1;\n")}
	}
	return pgdb.MigrationSet{Name: name, FS: fsys}
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		runs [][]pgdb.MigrationSet // Migrate calls, one after another
		want string                // rows of applied, "set:version" in order
	}{
		{
			name: "applies in version order",
			runs: [][]pgdb.MigrationSet{{migrations("one", 1, 2, 3)}},
			want: "one:1 one:2 one:3",
		},
		{
			name: "re-running is a no-op",
			runs: [][]pgdb.MigrationSet{{migrations("one", 1, 2)}, {migrations("one", 1, 2)}, {migrations("one", 1, 2)}},
			want: "one:1 one:2",
		},
		{
			name: "later run applies only new migrations",
			runs: [][]pgdb.MigrationSet{{migrations("one", 1)}, {migrations("one", 1, 2, 3)}},
			want: "one:1 one:2 one:3",
		},
		{
			name: "sets with the same versions keep separate version tables",
			runs: [][]pgdb.MigrationSet{{migrations("alpha", 1, 2), migrations("beta", 1, 2)}, {migrations("beta", 1, 2, 3)}},
			want: "alpha:1 alpha:2 beta:1 beta:2 beta:3",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pool := cluster.NewPool(t)
			for i, sets := range tt.runs {
				if err := pgdb.Migrate(t.Context(), pool, sets...); err != nil {
					t.Fatalf("run %d: %v", i, err)
				}
			}
			if got := applied(t, pool); got != tt.want {
				t.Errorf("applied = %q, want %q", got, tt.want)
			}
			for _, set := range tt.runs[len(tt.runs)-1] {
				var max int64
				err := pool.QueryRow(t.Context(), "SELECT max(version_id) FROM goose_"+set.Name).Scan(&max)
				if err != nil {
					t.Fatalf("version table of %s: %v", set.Name, err)
				}
				if want := int64(len(set.FS.(fstest.MapFS))); max != want {
					t.Errorf("goose_%s at version %d, want %d", set.Name, max, want)
				}
			}
		})
	}
}

func TestMigrateErrors(t *testing.T) {
	t.Parallel()
	broken := migrations("broken", 1)
	broken.FS.(fstest.MapFS)["00002_bad.sql"] = &fstest.MapFile{Data: []byte(
		"-- +goose Up\nINSERT INTO applied VALUES ('broken', 2);\nSELECT no_such_function();\n")}
	tests := []struct {
		name    string
		sets    []pgdb.MigrationSet
		wantErr string
		want    string // rows of applied after the failure
	}{
		{name: "invalid set name", sets: []pgdb.MigrationSet{migrations("Bad-Name", 1)}, wantErr: "Bad-Name"},
		{name: "nil FS", sets: []pgdb.MigrationSet{{Name: "nofs"}}, wantErr: "nofs"},
		{name: "empty FS", sets: []pgdb.MigrationSet{{Name: "empty", FS: fstest.MapFS{}}}, wantErr: "migrate empty"},
		{
			name:    "failing migration is rolled back, earlier ones stay, later sets are skipped",
			sets:    []pgdb.MigrationSet{broken, migrations("after", 1)},
			wantErr: "migrate broken",
			want:    "broken:1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pool := cluster.NewPool(t)
			err := pgdb.Migrate(t.Context(), pool, tt.sets...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Migrate error = %v, want one containing %q", err, tt.wantErr)
			}
			if tt.want != "" {
				if got := applied(t, pool); got != tt.want {
					t.Errorf("applied = %q, want %q", got, tt.want)
				}
			}
		})
	}
}

// TestMigrateConcurrently starts several "instances", each with its own
// pool, migrating the same database at once: every migration must run once.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	url := cluster.NewDatabase(t)
	sets := []pgdb.MigrationSet{migrations("alpha", 1, 2, 3), migrations("beta", 1, 2)}
	const instances = 4
	errs := make(chan error, instances)
	var wg sync.WaitGroup
	for range instances {
		wg.Go(func() {
			pool, err := pgdb.Open(t.Context(), url, pgdb.Limits{})
			if err != nil {
				errs <- err
				return
			}
			defer pool.Close()
			errs <- pgdb.Migrate(t.Context(), pool, sets...)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	pool, err := pgdb.Open(t.Context(), url, pgdb.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if got, want := applied(t, pool), "alpha:1 alpha:2 alpha:3 beta:1 beta:2"; got != want {
		t.Errorf("applied = %q, want %q", got, want)
	}
}

func applied(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	rows, err := pool.Query(t.Context(), "SELECT set_name || ':' || version FROM applied ORDER BY set_name, version")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(got, " ")
}
