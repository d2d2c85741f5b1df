package main

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/natstest"
	"github.com/orderbus/orderbus/pkg/pgdb"
	"github.com/orderbus/orderbus/pkg/pgtest"
	"github.com/orderbus/orderbus/pkg/servicetest"
	"github.com/orderbus/orderbus/pkg/stack"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { pgtest.Main(m, &cluster) }

// testEnv is one running inventory service with its own nats-server and
// database, plus the test's own connections to both.
type testEnv struct {
	*servicetest.Service
	nats *stack.NATS
	js   jetstream.JetStream
	db   *pgxpool.Pool
}

// startEnv starts a nats-server, a database and the service, and waits
// for /readyz. env overrides variables (see startService).
func startEnv(t *testing.T, env map[string]string) *testEnv {
	t.Helper()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	e := startService(t, srv, env)
	e.js = js
	e.WaitReady(t)
	return e
}

// startService starts the service against srv and a fresh database (with
// fast retries) without waiting for it. env overrides variables. The
// service is stopped at cleanup, and run must then return nil.
func startService(t *testing.T, srv *stack.NATS, env map[string]string) *testEnv {
	t.Helper()
	dbURL := cluster.NewDatabase(t)
	vars := map[string]string{
		"DATABASE_URL":         dbURL,
		"NATS_URL":             srv.URL(),
		"LOG_LEVEL":            "debug",
		"LOG_FORMAT":           "text",
		"SHUTDOWN_TIMEOUT":     "10s",
		"OUTBOX_INTERVAL":      "100ms",
		"CONSUMER_CONCURRENCY": "4",
		"CONSUMER_BACKOFF":     "50ms,100ms,200ms",
	}
	maps.Copy(vars, env)
	e := &testEnv{Service: servicetest.Start(t, run, vars), nats: srv}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	if e.db, err = pgdb.Open(ctx, dbURL, pgdb.Limits{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.db.Close)
	return e
}

// do sends a request (a JSON body unless body is "") and returns the
// status and body; status 0 and the error text when it cannot be sent.
// Safe in any goroutine.
func (e *testEnv) do(method, path, body string) (int, string) {
	req, err := http.NewRequest(method, e.URL+path, strings.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRunFailsWithoutDatabaseURL(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	err := run(context.Background(), nil, func(string) string { return "" }, &logs, &logs)
	if err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Fatalf("run without DATABASE_URL = %v, want an error naming DATABASE_URL", err)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	tests := []struct {
		name, path string
		want       []string
	}{
		{name: "healthz", path: "/healthz", want: []string{`"status":"ok"`}},
		{name: "readyz", path: "/readyz", want: []string{"postgres", "nats", `"consumers":{"status":"ok"`}},
		{name: "metrics", path: "/metrics", want: []string{
			`inventory_reservations_total{outcome="reserved"} 0`,
			`inventory_reservations_total{outcome="rejected"} 0`,
			`inventory_reservations_total{outcome="duplicate"} 0`,
			"orderbus_outbox_published_total",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := e.do(http.MethodGet, tt.path, "")
			if code != http.StatusOK {
				t.Fatalf("GET %s = %d %s", tt.path, code, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s lacks %q:\n%s", tt.path, w, body)
				}
			}
		})
	}
}
