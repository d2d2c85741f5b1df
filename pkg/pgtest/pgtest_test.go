package pgtest_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderbus/orderbus/pkg/pgdb"
	"github.com/orderbus/orderbus/pkg/pgtest"
	"github.com/orderbus/orderbus/pkg/stack"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { pgtest.Main(m, &cluster) }

func TestNewDatabaseIsFreshAndDropped(t *testing.T) {
	t.Parallel()
	// observer looks at the cluster's catalog from a database of its own.
	observer := cluster.NewPool(t)

	const n = 6
	var (
		mu    sync.Mutex
		names = map[string]bool{}
	)
	t.Run("group", func(t *testing.T) {
		for i := range n {
			t.Run(fmt.Sprintf("db%d", i), func(t *testing.T) {
				t.Parallel()
				pool := mustOpen(t, cluster.NewDatabase(t))
				var name string
				var tables int
				err := pool.QueryRow(t.Context(), `SELECT current_database(),
					(SELECT count(*) FROM pg_tables WHERE schemaname = 'public')`).Scan(&name, &tables)
				if err != nil {
					t.Fatal(err)
				}
				if tables != 0 {
					t.Errorf("new database %s has %d tables, want 0", name, tables)
				}
				mu.Lock()
				defer mu.Unlock()
				if names[name] {
					t.Errorf("database name %s handed out twice", name)
				}
				names[name] = true
			})
		}
	})
	if len(names) != n {
		t.Fatalf("got %d distinct databases, want %d", len(names), n)
	}
	// The group's cleanups have run: its databases must be gone.
	var left int
	err := observer.QueryRow(t.Context(),
		`SELECT count(*) FROM pg_database WHERE datname = ANY($1)`, keys(names)).Scan(&left)
	if err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d test databases left after cleanup, want 0", left)
	}
}

func TestNewPoolAppliesMigrations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		sets       []pgdb.MigrationSet
		wantTables []string
	}{
		{name: "no sets", sets: nil, wantTables: nil},
		{
			name: "two sets",
			sets: []pgdb.MigrationSet{
				set("widgets", "CREATE TABLE widgets (id int);"),
				set("gadgets", "CREATE TABLE gadgets (id int);"),
			},
			wantTables: []string{"gadgets", "goose_gadgets", "goose_widgets", "widgets"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pool := cluster.NewPool(t, tt.sets...)
			var got []string
			err := pool.QueryRow(t.Context(), `SELECT coalesce(array_agg(tablename ORDER BY tablename), '{}')
				FROM pg_tables WHERE schemaname = 'public'`).Scan(&got)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != strings.Join(tt.wantTables, ",") {
				t.Errorf("tables = %v, want %v", got, tt.wantTables)
			}
		})
	}
}

// TestMainWithServerURL runs this test binary again, pointed by EnvURL at
// an existing server: the tests must run there, and a server that does not
// exist must fail the package, not skip it.
func TestMainWithServerURL(t *testing.T) {
	t.Parallel()
	port, release, err := stack.RefusingPort() // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	tests := []struct {
		name       string
		url        string
		wantExit0  bool
		wantOutput string
	}{
		{
			name:       "existing server",
			url:        cluster.NewDatabase(t), // any database of a server will do
			wantExit0:  true,
			wantOutput: "--- PASS: TestNewPoolAppliesMigrations",
		},
		{
			name:       "nothing listening",
			url:        fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=5", port),
			wantOutput: "pgtest: cannot start PostgreSQL",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestNewPoolAppliesMigrations$", "-test.v")
			cmd.Env = append(os.Environ(), pgtest.EnvURL+"="+tt.url)
			out, err := cmd.CombinedOutput()
			var exitErr *exec.ExitError
			switch {
			case tt.wantExit0 && err != nil:
				t.Errorf("test binary: %v, want success", err)
			case !tt.wantExit0 && (!errors.As(err, &exitErr) || exitErr.ExitCode() == 0):
				t.Errorf("test binary: err = %v, want a non-zero exit", err)
			}
			if !bytes.Contains(out, []byte(tt.wantOutput)) {
				t.Errorf("output does not contain %q:\n%s", tt.wantOutput, out)
			}
		})
	}
}

func set(name, up string) pgdb.MigrationSet {
	return pgdb.MigrationSet{Name: name, FS: fstest.MapFS{
		"00001_init.sql": {Data: []byte("-- +goose Up\n" + up + "\n")},
	}}
}

func mustOpen(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgdb.Open(t.Context(), url, pgdb.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
