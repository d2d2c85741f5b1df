package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
	"github.com/orderbus/orderbus/pkg/pgdb"
	"github.com/orderbus/orderbus/pkg/pgtest"
	"github.com/orderbus/orderbus/pkg/stack"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { pgtest.Main(m, &cluster) }

// testEnv is one running inventory service with its own nats-server and
// database, plus the test's own connections to both.
type testEnv struct {
	t       *testing.T
	nats    *stack.NATS
	js      jetstream.JetStream
	pub     *natsjs.Publisher
	db      *pgxpool.Pool
	baseURL string
	logs    *syncBuffer
	runErr  chan error // run's result
}

// startEnv starts a nats-server, a database and the service, and waits
// for /readyz. env overrides variables (see startService).
func startEnv(t *testing.T, env map[string]string) *testEnv {
	t.Helper()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	e := startService(t, srv, env)
	e.js, e.pub = js, natsjs.NewPublisher(js)
	e.waitReady()
	return e
}

// startService starts the service against srv and a fresh database (run
// in a goroutine, with fast retries) without waiting for it. env overrides
// variables. The service is stopped at cleanup, and run must then return
// nil; its log is shown when the test failed.
func startService(t *testing.T, srv *stack.NATS, env map[string]string) *testEnv {
	t.Helper()
	dbURL := cluster.NewDatabase(t)
	port, err := stack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"HTTP_ADDR":            fmt.Sprintf("127.0.0.1:%d", port),
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

	e := &testEnv{t: t, nats: srv, baseURL: "http://" + vars["HTTP_ADDR"], logs: &syncBuffer{}, runErr: make(chan error, 1)}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("inventory service log:\n%s", e.logs.String())
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { e.runErr <- run(ctx, nil, func(k string) string { return vars[k] }, e.logs, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-e.runErr:
			if err != nil {
				t.Errorf("run returned %v after shutdown, want nil", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("run did not return within 30s of shutdown")
		}
	})

	pctx, pcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer pcancel()
	if e.db, err = pgdb.Open(pctx, dbURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.db.Close)
	return e
}

// waitReady waits until /readyz answers 200, failing the test if run
// returns first.
func (e *testEnv) waitReady() {
	e.t.Helper()
	e.waitFor(20*time.Second, "/readyz to answer 200", func() (bool, string) {
		select {
		case err := <-e.runErr:
			e.runErr <- err // for the cleanup
			e.t.Fatalf("run returned before ready: %v", err)
		default:
		}
		code, body := e.do(http.MethodGet, "/readyz", "")
		return code == http.StatusOK, fmt.Sprintf("%d %s", code, body)
	})
}

// do sends a request (a JSON body unless body is "") and returns the
// status and body; status 0 and the error text when it cannot be sent.
// Safe in any goroutine.
func (e *testEnv) do(method, path, body string) (int, string) {
	req, err := http.NewRequest(method, e.baseURL+path, strings.NewReader(body))
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

// syncBuffer is a bytes.Buffer safe for the service's concurrent logging.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRunFailsWithoutDatabaseURL(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
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
		{name: "readyz", path: "/readyz", want: []string{"postgres", "nats"}},
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
