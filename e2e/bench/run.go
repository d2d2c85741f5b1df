package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/e2e/launcher"
	"github.com/orderbus/orderbus/pkg/stack"
)

// Run measures everything Options ask for on this machine and returns the
// Result. It starts its own PostgreSQL cluster with durable settings
// (fsync, full-page writes and synchronous_commit on), runs pgbench on it,
// then a system with the order service alone and then the whole system
// on the same cluster, each with NATS at sync_interval: always, all on
// 127.0.0.1, and stops everything before it returns. It returns an error
// when something could not run (a system that does not start, pgbench
// failing, effects not all delivered within Options.Settle); the figures
// are never judged.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	prog := newProgress(opts.Progress)
	defer prog.Close()
	r := &Result{Started: time.Now(), Host: host(), Settings: settings(opts)}
	b := &bencher{opts: opts, prog: prog, res: r}
	err := b.run(ctx)
	r.Seconds = time.Since(r.Started).Seconds()
	r.Host.LoadEnd = loadAverage()
	r.Targets = targets(r)
	return r, err
}

// bencher carries a Run's state from step to step.
type bencher struct {
	opts    Options
	prog    *progress
	res     *Result
	pg      *stack.Postgres
	bins    map[string]string
	scratch string // URL of the pgbench scratch database
	alone   map[string]cpuTimes
}

func (b *bencher) run(ctx context.Context) error {
	b.prog.Step("building the services", 0)
	bins, cleanup, err := binaries(ctx, b.opts.Binaries)
	if err != nil {
		return err
	}
	defer cleanup()
	b.bins = bins

	b.prog.Step("starting PostgreSQL (fsync on, synchronous_commit on)", 0)
	pgcfg := stack.PostgresConfig{Logger: b.opts.Logger}
	if b.opts.Statements > 0 {
		pgcfg.Settings = map[string]string{"shared_preload_libraries": "pg_stat_statements"}
	}
	b.pg, err = stack.StartPostgres(ctx, pgcfg)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer func() { _ = b.pg.Stop(context.WithoutCancel(ctx)) }()
	b.res.Host.PostgreSQL = serverVersion(ctx, b.pg.URL("postgres"))

	steps := []func(context.Context) error{b.pgbench, b.orderAlone, b.wholeSystem}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// binaries returns prebuilt binaries completed by building the missing
// ones into a temporary folder, which cleanup removes.
func binaries(ctx context.Context, given map[string]string) (map[string]string, func(), error) {
	bins := map[string]string{}
	var missing []string
	for _, name := range launcher.DefaultServices() {
		if p := given[name]; p != "" {
			bins[name] = p
		} else {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return bins, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "orderbus-bench-bin-")
	if err != nil {
		return nil, nil, fmt.Errorf("bench: %w", err)
	}
	built, err := launcher.Build(ctx, dir, missing...)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("bench: %w", err)
	}
	for k, v := range built {
		bins[k] = v
	}
	return bins, func() { os.RemoveAll(dir) }, nil
}

func host() Host {
	h := Host{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(),
		Durability: "PostgreSQL fsync=on synchronous_commit=on full_page_writes=on; NATS sync_interval: always"}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		h.Kernel = strings.TrimSpace(string(b))
	}
	h.LoadStart = loadAverage()
	return h
}

// loadAverage returns the 1-minute load average, 0 if unknown.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

func serverVersion(ctx context.Context, url string) string {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return "unknown"
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var v string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&v); err != nil {
		return "unknown"
	}
	return v
}

func settings(o Options) Settings {
	return Settings{
		Clients: o.Clients, PgbenchSeconds: o.PgbenchTime.Seconds(), OrderSeconds: o.OrderTime.Seconds(),
		OpenRate: o.OpenRate, OpenSeconds: o.OpenTime.Seconds(), Orders: o.Orders,
		LatencyRate: o.LatencyRate, LatencySeconds: o.LatencyTime.Seconds(),
		SMTPDelayMS: ms(o.SMTPDelay), BaselineRate: o.BaselineRate, Seed: o.Seed,
	}
}

// procs returns the processes of sys to measure, the PostgreSQL cluster
// and this process (the load generator, the proxy, the baseline).
func (b *bencher) procs(sys *launcher.System) []Proc {
	var out []Proc
	for _, name := range sys.Services() {
		if p := sys.Process(name); p != nil {
			out = append(out, Proc{Name: name, PID: p.Pid()})
		}
	}
	type proc interface{ Process() *stack.Process }
	if n, ok := sys.NATS().(proc); ok {
		out = append(out, Proc{Name: "nats-server", PID: n.Process().Pid()})
	}
	out = append(out, Proc{Name: "postgres", PID: b.pg.Process().Pid(), Children: true})
	if m, ok := sys.Mailpit().(proc); ok {
		out = append(out, Proc{Name: "mailpit", PID: m.Process().Pid()})
	}
	out = append(out, Proc{Name: benchProc, PID: os.Getpid()})
	return out
}

// benchProc names this process in the footprint.
const benchProc = "bench tool (load)"
