package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresConfig configures a throwaway PostgreSQL cluster.
type PostgresConfig struct {
	// Dir holds the cluster's data; "" means a new temporary folder that
	// Stop removes.
	Dir string
	// Port is the TCP port on 127.0.0.1; 0 picks a free one.
	Port int
	// BinDir holds initdb and postgres; "" means $ORDERBUS_PG_BINDIR, else
	// the first of /usr/lib/postgresql/{17,16,15}/bin that exists, else PATH.
	BinDir string
	// Fast turns off fsync and full-page writes: right for tests, whose
	// data need not survive a machine crash; wrong for anything else.
	Fast bool
	// Output, when set, receives the server's log lines.
	Output io.Writer
	// Settings are extra server settings (name to value, passed as -c),
	// such as shared_preload_libraries=pg_stat_statements. Those the
	// cluster sets itself (address, port, sockets, max_connections,
	// fsync, full_page_writes, synchronous_commit) win over them.
	Settings map[string]string
	// Logger reports progress; nil discards it.
	Logger *slog.Logger
}

// Postgres is a running PostgreSQL cluster started by StartPostgres.
type Postgres struct {
	cfg     PostgresConfig
	tempDir bool
	bin     string
	cred    *syscall.Credential
	proc    *Process
}

// StartPostgres creates a cluster with initdb (trust authentication for
// the postgres superuser, on 127.0.0.1 only) and starts its server. As
// root, both run as the postgres user, since PostgreSQL refuses to run as
// root. It returns once the server accepts connections. Unless cfg.Fast,
// the server runs with fsync=on, full_page_writes=on and
// synchronous_commit=on: a committed transaction survives a crash.
func StartPostgres(ctx context.Context, cfg PostgresConfig) (*Postgres, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	bin, err := postgresBinDir(cfg.BinDir)
	if err != nil {
		return nil, err
	}
	cred, err := postgresCredential()
	if err != nil {
		return nil, err
	}

	pg := &Postgres{cfg: cfg, bin: bin, cred: cred}
	if cfg.Dir == "" {
		dir, err := os.MkdirTemp("", "orderbus-pg-")
		if err != nil {
			return nil, fmt.Errorf("postgres: %w", err)
		}
		pg.cfg.Dir, pg.tempDir = dir, true
	}
	dataDir := filepath.Join(pg.cfg.Dir, "data")
	if err := chownTree(pg.cfg.Dir, cred); err != nil {
		return nil, err
	}

	if _, err := os.Stat(filepath.Join(dataDir, "PG_VERSION")); err != nil {
		initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
			"-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
		initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		initdb.Dir = pg.cfg.Dir
		if out, err := initdb.CombinedOutput(); err != nil {
			pg.removeTemp()
			return nil, fmt.Errorf("postgres: initdb: %w\n%s", err, out)
		}
	}

	if err := startOnFreePorts([]*int{&pg.cfg.Port}, func() error { return pg.Start(ctx) }); err != nil {
		pg.removeTemp()
		return nil, err
	}
	return pg, nil
}

// Start starts the server on the cluster's data folder and port, after
// Crash or StartPostgres; it returns once the server accepts connections
// (after crash recovery, if it crashed). It returns an error if the server
// runs already or does not become ready within 30 seconds.
func (p *Postgres) Start(ctx context.Context) error {
	if p.proc != nil && !exited(p.proc) {
		return errors.New("postgres: already running")
	}
	var args []string
	// Extra settings first: postgres takes the last -c of a name, so the
	// ones below win.
	for _, k := range slices.Sorted(maps.Keys(p.cfg.Settings)) {
		args = append(args, "-c", k+"="+p.cfg.Settings[k])
	}
	args = append(args,
		"-D", filepath.Join(p.cfg.Dir, "data"),
		"-p", strconv.Itoa(p.cfg.Port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories="+p.cfg.Dir,
		"-c", "max_connections=300",
		"-c", "synchronous_commit=on",
	)
	if p.cfg.Fast {
		args = append(args, "-c", "fsync=off", "-c", "full_page_writes=off")
	} else {
		args = append(args, "-c", "fsync=on", "-c", "full_page_writes=on")
	}
	if err := p.writeHBA(); err != nil {
		return err
	}
	proc, err := StartProcess(ctx, ProcessConfig{
		Name: "postgres", Path: filepath.Join(p.bin, "postgres"), Args: args,
		Dir: p.cfg.Dir, Output: p.cfg.Output, Credential: p.cred,
	})
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	p.proc = proc
	err = proc.waitReady(ctx, 30*time.Second, func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, p.URL("postgres"))
		if err != nil {
			return err
		}
		return conn.Close(ctx)
	})
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	p.cfg.Logger.Info("postgres ready", "port", p.cfg.Port, "dir", p.cfg.Dir)
	return nil
}

// Crash stops the server as a crash would: SIGQUIT to the postmaster is
// PostgreSQL's immediate shutdown (pg_ctl stop -m immediate), which ends
// every backend at once without a checkpoint, so the next Start runs
// crash recovery from the WAL. It waits for the server to exit and keeps
// the data folder. Crashing a stopped server does nothing.
func (p *Postgres) Crash(ctx context.Context) error {
	if err := p.proc.signalAndWait(ctx, syscall.SIGQUIT); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

// URL returns the connection URL of database on this cluster, as the
// postgres superuser.
func (p *Postgres) URL(database string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.cfg.Port, database)
}

// Port returns the TCP port the server listens on.
func (p *Postgres) Port() int { return p.cfg.Port }

// BinDir returns the folder of the PostgreSQL binaries the cluster runs
// (see PostgresConfig.BinDir), which also holds the client tools of the
// same version, such as pgbench and psql.
func (p *Postgres) BinDir() string { return p.bin }

// Process returns the server process, for its log.
func (p *Postgres) Process() *Process { return p.proc }

// CreateDatabase creates the database name; it is an error if it exists.
func (p *Postgres) CreateDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, p.URL("postgres"))
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// Stop stops the server (fast shutdown: open sessions are ended) and
// removes the data folder if StartPostgres made it.
func (p *Postgres) Stop(ctx context.Context) error {
	// SIGINT is PostgreSQL's "fast" shutdown; SIGTERM waits for clients.
	err := p.proc.signalAndWait(ctx, syscall.SIGINT)
	p.removeTemp()
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

func (p *Postgres) removeTemp() {
	if p.tempDir {
		_ = os.RemoveAll(p.cfg.Dir)
	}
}

func postgresBinDir(dir string) (string, error) {
	if dir == "" {
		dir = os.Getenv("ORDERBUS_PG_BINDIR")
	}
	if dir != "" {
		return dir, nil
	}
	for _, v := range []string{"17", "16", "15"} {
		d := "/usr/lib/postgresql/" + v + "/bin"
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	initdb, err := exec.LookPath("initdb")
	if err != nil {
		return "", fmt.Errorf("postgres: no initdb found (install the PostgreSQL server, or set ORDERBUS_PG_BINDIR): %w", err)
	}
	return filepath.Dir(initdb), nil
}

// postgresCredential returns the postgres user's credential when running
// as root, and nil (run as ourselves) otherwise.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("postgres: running as root needs a postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func chownTree(dir string, cred *syscall.Credential) error {
	if cred == nil {
		return nil
	}
	err := filepath.Walk(dir, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(cred.Uid), int(cred.Gid))
	})
	if err != nil {
		return fmt.Errorf("postgres: hand %s to the postgres user: %w", dir, err)
	}
	return nil
}
