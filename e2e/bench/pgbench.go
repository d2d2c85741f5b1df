package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/e2e/launcher"
)

// PgbenchResult is one pgbench run of the order+outbox transaction.
type PgbenchResult struct {
	Clients      int     `json:"clients"`
	Seconds      int     `json:"seconds"`
	TPS          float64 `json:"tps"`
	LatencyAvgMS float64 `json:"latency_avg_ms"`
	Transactions int64   `json:"transactions"`
	// PostgresCPUPerTxMS is the CPU time (user+system) the PostgreSQL
	// server (postmaster and backends) spent per transaction, to compare
	// with its CPU per order under the order service.
	PostgresCPUPerTxMS float64 `json:"postgres_cpu_ms_per_tx"`
}

// pgbenchSchema creates, in a scratch database, the order service's
// orders table and pkg/outbox's outbox table with the same columns,
// constraints and indexes as their migrations.
const pgbenchSchema = `
CREATE TABLE orders (
    id             uuid PRIMARY KEY,
    customer_id    uuid        NOT NULL,
    customer_name  text        NOT NULL,
    customer_email text        NOT NULL,
    customer_phone text        NOT NULL,
    status         text        NOT NULL CHECK (status IN ('pending', 'confirmed', 'rejected')),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX orders_customer_id_created_at_idx ON orders (customer_id, created_at DESC);
CREATE TABLE outbox (
    seq           bigserial   PRIMARY KEY,
    id            text        NOT NULL UNIQUE,
    subject       text        NOT NULL,
    source        text        NOT NULL,
    type          text        NOT NULL,
    event_subject text        NOT NULL DEFAULT '',
    event_time    timestamptz,
    traceparent   text        NOT NULL DEFAULT '',
    data          bytea,
    created_at    timestamptz NOT NULL DEFAULT now()
);`

// pgbenchScript is one transaction as the order service commits it at
// its core: an order row, then its order-placed event in the outbox, with
// a body of the real event's size (about 400 bytes).
const pgbenchScript = `BEGIN;
INSERT INTO orders (id, customer_id, customer_name, customer_email, customer_phone, status, created_at, updated_at)
  VALUES (gen_random_uuid(), gen_random_uuid(), 'Bench Customer', 'customer@bench.example.com', '+15555550100', 'pending', now(), now())
  RETURNING id AS order_id, customer_id \gset
INSERT INTO outbox (id, subject, source, type, event_subject, event_time, traceparent, data)
  VALUES (gen_random_uuid()::text, 'orders.placed.' || :customer_id, 'orderbus/order', 'orderbus.order.placed.v1', :order_id, now(),
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    convert_to('{"order_id":"' || :order_id || '","customer":{"id":"' || :customer_id || '","name":"Bench Customer","email":"customer@bench.example.com","phone":"+15555550100"},"items":[{"sku":"ESPRESSO-1KG","quantity":1},{"sku":"MUG-WHITE","quantity":2}],"status":"pending","created_at":"2026-01-01T00:00:00Z"}', 'UTF8'));
END;
`

// preparePgbench creates the scratch database name on db with the
// schema, and returns a URL of it.
func preparePgbench(ctx context.Context, db launcher.Database, name string) (string, error) {
	if err := db.CreateDatabase(ctx, name); err != nil {
		return "", fmt.Errorf("pgbench: %w", err)
	}
	url := db.URL(name)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return "", fmt.Errorf("pgbench: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, pgbenchSchema); err != nil {
		return "", fmt.Errorf("pgbench: schema: %w", err)
	}
	return url, nil
}

// runPgbench runs binDir/pgbench with the order+outbox script against
// url: clients connections (prepared statements, as pgx uses), for d
// (whole seconds, at least one), without vacuuming first.
func runPgbench(ctx context.Context, binDir, url string, clients int, d time.Duration) (PgbenchResult, error) {
	secs := max(1, int((d+time.Second-1)/time.Second))
	dir, err := os.MkdirTemp("", "orderbus-pgbench-")
	if err != nil {
		return PgbenchResult{}, fmt.Errorf("pgbench: %w", err)
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "order_outbox.sql")
	if err := os.WriteFile(script, []byte(pgbenchScript), 0o644); err != nil {
		return PgbenchResult{}, fmt.Errorf("pgbench: %w", err)
	}
	args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(min(clients, 2)),
		"-T", strconv.Itoa(secs), "-f", script, url}
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "pgbench"), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return PgbenchResult{}, fmt.Errorf("pgbench -c %d: %w\n%s", clients, err, out)
	}
	res, err := parsePgbench(string(out))
	if err != nil {
		return PgbenchResult{}, err
	}
	res.Clients, res.Seconds = clients, secs
	return res, nil
}

var (
	pgbenchTPS     = regexp.MustCompile(`(?m)^tps = ([0-9.]+)`)
	pgbenchLatency = regexp.MustCompile(`(?m)^latency average = ([0-9.]+) ms`)
	pgbenchCount   = regexp.MustCompile(`(?m)^number of transactions actually processed: ([0-9]+)`)
)

// parsePgbench reads the figures of pgbench's report.
func parsePgbench(out string) (PgbenchResult, error) {
	var r PgbenchResult
	m := pgbenchTPS.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("pgbench: no tps in its output:\n%s", out)
	}
	r.TPS, _ = strconv.ParseFloat(m[1], 64)
	if m := pgbenchLatency.FindStringSubmatch(out); m != nil {
		r.LatencyAvgMS, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := pgbenchCount.FindStringSubmatch(out); m != nil {
		r.Transactions, _ = strconv.ParseInt(m[1], 10, 64)
	}
	return r, nil
}
