// Package pgtest gives each test its own empty PostgreSQL database on one
// cluster per test package: a throwaway cluster started with pkg/stack, or
// the server at $ORDERBUS_TEST_POSTGRES_URL when that is set.
//
// The throwaway cluster runs with fsync off and lives on /dev/shm when that
// tmpfs has 1 GiB free (else in the temporary folder): a new database then
// takes about 20 ms, so every test, even every table case, can have one.
package pgtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderbus/orderbus/pkg/pgdb"
	"github.com/orderbus/orderbus/pkg/stack"
)

// EnvURL names the environment variable that points the tests at an
// existing server instead of a throwaway cluster, e.g.
// postgres://postgres:secret@127.0.0.1:5432/postgres?sslmode=disable. The
// role must be allowed to create databases; the URL's database is only used
// to issue CREATE DATABASE and DROP DATABASE.
const EnvURL = "ORDERBUS_TEST_POSTGRES_URL"

const (
	startTimeout   = 60 * time.Second
	stopTimeout    = 30 * time.Second
	createTimeout  = 30 * time.Second
	cleanupTimeout = 30 * time.Second
)

// Cluster is one PostgreSQL server shared by the tests of a package. Its
// methods are safe for concurrent use by parallel tests.
type Cluster struct {
	pg    *stack.Postgres // nil when the server is external
	admin *pgxpool.Pool   // connected to the maintenance database
	dir   string          // the throwaway cluster's folder, removed at stop
	base  url.URL         // server URL; the path is replaced per database
	// strategy is the CREATE DATABASE strategy clause; PostgreSQL 15
	// added FILE_COPY's choice, older servers only file-copy.
	strategy string
}

// Main starts a cluster, stores it in *c, runs the package's tests, stops the
// cluster and exits with the tests' status. When the cluster cannot start it
// prints the reason to stderr and exits non-zero without running any test, so
// a missing PostgreSQL fails the package instead of skipping it.
//
// Usage:
//
//	var cluster *pgtest.Cluster
//
//	func TestMain(m *testing.M) { pgtest.Main(m, &cluster) }
func Main(m *testing.M, c **Cluster) {
	os.Exit(run(m, c))
}

func run(m *testing.M, c **Cluster) int {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	cluster, err := start(ctx)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: cannot start PostgreSQL: %v\n", err)
		return 1
	}
	*c = cluster
	code := m.Run()
	ctx, cancel = context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	if err := cluster.stop(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: stop PostgreSQL: %v\n", err)
	}
	return code
}

func start(ctx context.Context) (*Cluster, error) {
	if raw := os.Getenv(EnvURL); raw != "" {
		base, err := url.Parse(raw)
		if err != nil {
			// url.Error would quote the URL, password included.
			return nil, fmt.Errorf("parse $%s: not a valid URL", EnvURL)
		}
		c := &Cluster{base: *base}
		if err := c.connect(ctx, raw); err != nil {
			return nil, fmt.Errorf("connect to $%s: %w", EnvURL, err)
		}
		return c, nil
	}
	dir, err := clusterDir()
	if err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	pg, err := stack.StartPostgres(ctx, stack.PostgresConfig{Dir: dir, Fast: true, Logger: logger})
	if err != nil {
		removeDir(dir)
		return nil, err
	}
	c := &Cluster{pg: pg, dir: dir}
	raw := pg.URL("postgres")
	base, err := url.Parse(raw)
	if err == nil {
		c.base = *base
		err = c.connect(ctx, raw)
	}
	if err != nil {
		if stopErr := c.stop(context.WithoutCancel(ctx)); stopErr != nil {
			err = fmt.Errorf("%w (and stop: %v)", err, stopErr)
		}
		return nil, fmt.Errorf("connect to cluster: %w", err)
	}
	return c, nil
}

// connect opens the admin pool on the maintenance database at raw and
// picks the CREATE DATABASE strategy the server supports.
func (c *Cluster) connect(ctx context.Context, raw string) error {
	// Creating and dropping databases may wait on a busy machine: the
	// admin pool gets more time than a service's.
	admin, err := pgdb.Open(ctx, raw, pgdb.Limits{StatementTimeout: time.Minute, AcquireTimeout: 30 * time.Second})
	if err != nil {
		return err
	}
	var version int
	if err := admin.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		admin.Close()
		return fmt.Errorf("server version: %w", err)
	}
	if version >= 150000 {
		c.strategy = " STRATEGY FILE_COPY"
	}
	c.admin = admin
	return nil
}

func (c *Cluster) stop(ctx context.Context) error {
	if c.admin != nil {
		c.admin.Close()
	}
	if c.pg == nil {
		return nil
	}
	err := c.pg.Stop(ctx)
	removeDir(c.dir)
	return err
}

// NewDatabase creates a fresh, empty, uniquely named database, drops it when
// the test and its subtests have finished, and returns its URL. It fails the
// test when the database cannot be created, and reports an error when it
// cannot be dropped.
func (c *Cluster) NewDatabase(tb testing.TB) string {
	tb.Helper()
	if c == nil {
		tb.Fatal("pgtest: no cluster: call pgtest.Main(m, &cluster) from TestMain")
	}
	name := "test_" + strings.ToLower(rand.Text())
	ctx, cancel := context.WithTimeout(context.Background(), createTimeout)
	defer cancel()
	// template0 is never connected to, so parallel tests can copy it at
	// once; FILE_COPY copies its files instead of WAL-logging every page,
	// 2-5 times faster (measured on PostgreSQL 15, disk and tmpfs).
	create := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize() + " TEMPLATE template0" + c.strategy
	if _, err := c.admin.Exec(ctx, create); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		drop := "DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize() + " WITH (FORCE)"
		if _, err := c.admin.Exec(ctx, drop); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u := c.base
	u.Path = "/" + name
	return u.String()
}

// NewPool creates a database with NewDatabase, opens a pool on it with
// pgdb.Open, applies sets with pgdb.Migrate and returns the pool, which is
// closed before the database is dropped. It fails the test on any error.
func (c *Cluster) NewPool(tb testing.TB, sets ...pgdb.MigrationSet) *pgxpool.Pool {
	tb.Helper()
	dbURL := c.NewDatabase(tb)
	ctx, cancel := context.WithTimeout(context.Background(), createTimeout)
	defer cancel()
	pool, err := pgdb.Open(ctx, dbURL, pgdb.Limits{})
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(pool.Close)
	if err := pgdb.Migrate(ctx, pool, sets...); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	return pool
}
