package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orderbus/orderbus/e2e/bench"
)

// A tiny run goes through every step against real PostgreSQL, NATS and
// Mailpit, prints the table and writes the files; the checker reconciles
// every effect of the whole system's closed loop. Nothing here judges a
// figure.
func TestTinyRun(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := []string{"orderbus-bench", "-quick",
		"-pgbench-time", "1s", "-order-time", "1s", "-open-rate", "100", "-open-time", "1s",
		"-orders", "60", "-latency-rate", "40", "-latency-time", "1s",
		"-smtp-delay", "50ms", "-baseline-rate", "10", "-baseline-time", "1s", "-settle", "1m",
		"-out", out}
	if err := run(t.Context(), args, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	table := stdout.String()
	for _, want := range []string{"what", "PostgreSQL limit: pgbench", "Order service alone", "Whole system",
		"all effects once, 0 findings", "synchronous baseline", "Footprint per process", "wrote "} {
		if !strings.Contains(table, want) {
			t.Errorf("stdout lacks %q:\n%s", want, table)
		}
	}
	if !strings.Contains(stderr.String(), "pgbench: order+outbox transaction") {
		t.Errorf("no progress on stderr:\n%s", stderr.String())
	}

	dirs, err := filepath.Glob(filepath.Join(out, "*"))
	if err != nil || len(dirs) != 1 {
		t.Fatalf("run folders %v (%v), want one", dirs, err)
	}
	raw, err := os.ReadFile(filepath.Join(dirs[0], bench.ResultFile))
	if err != nil {
		t.Fatal(err)
	}
	var res bench.Result
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("result.json: %v", err)
	}
	if len(res.Pgbench) != 2 || res.Pgbench[1].TPS <= 0 {
		t.Errorf("pgbench results %+v, want two with a rate", res.Pgbench)
	}
	if res.Whole.Load.Sent != 60 || !res.Whole.Reconciled || res.Whole.ProcessedRate <= 0 {
		t.Errorf("whole system %+v, want 60 orders reconciled", res.Whole)
	}
	if res.Latency.Receipt.Count == 0 || res.SlowSMTP.Baseline.Accept.Count == 0 {
		t.Errorf("no receipts (%+v) or no baseline answers (%+v)", res.Latency.Receipt, res.SlowSMTP.Baseline.Accept)
	}
	if len(res.Footprint) == 0 || len(res.Targets) == 0 {
		t.Errorf("footprint %v, targets %v", res.Footprint, res.Targets)
	}
	f, err := os.Open(filepath.Join(dirs[0], bench.PictureFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("latency.png: %v", err)
	}
}

func TestHelpAndBadFlags(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"orderbus-bench", "-help"}, &stdout, &stderr); err != nil {
		t.Errorf("-help: %v", err)
	}
	if !strings.Contains(stderr.String(), "-smtp-delay") {
		t.Errorf("-help does not list -smtp-delay:\n%s", stderr.String())
	}
	if err := run(t.Context(), []string{"orderbus-bench", "-orders", "0"}, &stdout, &stderr); err == nil {
		t.Error("-orders 0: no error")
	}
	if err := run(t.Context(), []string{"orderbus-bench", "stray"}, &stdout, &stderr); err == nil {
		t.Error("a stray argument: no error")
	}
}
