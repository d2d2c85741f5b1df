package pgdb_test

import (
	"log/slog"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/orderbus/orderbus/pkg/pgdb"
)

func TestOpenWait(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	ctx := t.Context()

	pool, err := pgdb.OpenWait(ctx, log, cluster.NewDatabase(t), pgdb.Limits{}, 10*time.Second)
	if err != nil {
		t.Fatalf("OpenWait on a running server: %v", err)
	}
	pool.Close()

	if _, err := pgdb.OpenWait(ctx, log, "postgres://%zz", pgdb.Limits{}, time.Minute); err == nil {
		t.Fatal("OpenWait accepted a malformed url")
	}

	start := time.Now()
	_, err = pgdb.OpenWait(ctx, log, "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=1", pgdb.Limits{}, 700*time.Millisecond)
	if err == nil {
		t.Fatal("OpenWait reached a server on port 1")
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("OpenWait waited %v, beyond its 700ms timeout", waited)
	}
}

func TestOpenMigrated(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	broken := migrations("broken", 1)
	broken.FS.(fstest.MapFS)["00002_bad.sql"] = &fstest.MapFile{Data: []byte(
		"-- +goose Up\nSELECT no_such_function();\n")}
	tests := []struct {
		name    string
		url     func(testing.TB) string
		sets    []pgdb.MigrationSet
		want    string // rows of applied, when OpenMigrated succeeds
		wantErr string
	}{
		{
			name: "opens and migrates",
			url:  cluster.NewDatabase,
			sets: []pgdb.MigrationSet{migrations("alpha", 1, 2), migrations("beta", 1)},
			want: "alpha:1 alpha:2 beta:1",
		},
		{
			name:    "malformed url",
			url:     func(testing.TB) string { return "postgres://%zz" },
			wantErr: "parse database url",
		},
		{
			name:    "failing migration closes the pool",
			url:     cluster.NewDatabase,
			sets:    []pgdb.MigrationSet{broken},
			wantErr: "migrate database: migrate broken",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := tt.url(t)
			pool, err := pgdb.OpenMigrated(t.Context(), log, url, pgdb.Limits{}, 10*time.Second, tt.sets...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("OpenMigrated error = %v, want one containing %q", err, tt.wantErr)
				}
				if pool != nil {
					t.Error("OpenMigrated returned a pool with its error")
				}
				if tt.sets != nil {
					waitNoOtherSessions(t, url)
				}
				return
			}
			if err != nil {
				t.Fatalf("OpenMigrated: %v", err)
			}
			defer pool.Close()
			if got := applied(t, pool); got != tt.want {
				t.Errorf("applied = %q, want %q", got, tt.want)
			}
		})
	}
}

// waitNoOtherSessions waits up to 5s until the database at url has no
// session but the one it checks with: a pool left open would keep its own.
func waitNoOtherSessions(t *testing.T, url string) {
	t.Helper()
	probe, err := pgdb.Open(t.Context(), url, pgdb.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var others int
		err := probe.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&others)
		if err != nil {
			t.Fatal(err)
		}
		if others == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d other sessions on the database after 5s: the pool was left open", others)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
