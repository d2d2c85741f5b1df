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

// testToken is the GDPR_TOKEN of every test service.
const testToken = "test-token-7c1e0b5a9f3d4e2a8b6c"

// testEnv is one running gdpr service with its own nats-server and
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
		"GDPR_TOKEN":           testToken,
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

// response is what do received.
type response struct {
	code   int
	header http.Header
	body   string
}

// do sends a request with Authorization: Bearer token (none when token is
// "") and a JSON body (none when body is ""), and returns the response;
// code 0 and the error text when it cannot be sent. Safe in any goroutine.
func (e *testEnv) do(method, path, token, body string) response {
	req, err := http.NewRequest(method, e.URL+path, strings.NewReader(body))
	if err != nil {
		return response{body: err.Error()}
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return response{body: err.Error()}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{code: resp.StatusCode, header: resp.Header, body: string(b)}
}

func TestRunRefusesBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{name: "nothing set", env: map[string]string{}, want: []string{"DATABASE_URL", "GDPR_TOKEN"}},
		{name: "no token", env: map[string]string{"DATABASE_URL": "postgres://db/gdpr"}, want: []string{"GDPR_TOKEN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			err := run(context.Background(), nil, func(k string) string { return tt.env[k] }, &logs, &logs)
			if err == nil {
				t.Fatal("run succeeded, want a config error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("run error %q does not name %s", err, w)
				}
			}
		})
	}
}

// TestOperationalEndpointsAreOpen checks that probes and scrapers need no
// token, and that the config is logged with the token masked.
func TestOperationalEndpointsAreOpen(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	tests := []struct {
		path string
		want []string
	}{
		{path: "/healthz", want: []string{`"status":"ok"`}},
		{path: "/readyz", want: []string{"postgres", "nats"}},
		{path: "/metrics", want: []string{
			"gdpr_erasures_open 0",
			"gdpr_erasure_oldest_open_age_seconds 0",
			`gdpr_erasures_total{outcome="requested"} 0`,
			`gdpr_erasures_total{outcome="completed"} 0`,
			`gdpr_answers_total{outcome="recorded"} 0`,
			"orderbus_outbox_published_total",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res := e.do(http.MethodGet, tt.path, "", "")
			if res.code != http.StatusOK {
				t.Fatalf("GET %s = %d %s", tt.path, res.code, res.body)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.body, w) {
					t.Errorf("GET %s lacks %q:\n%s", tt.path, w, res.body)
				}
			}
		})
	}
	logs := e.Logs()
	if strings.Contains(logs, testToken) {
		t.Error("the service log holds GDPR_TOKEN")
	}
	if !strings.Contains(logs, "gdpr_token=xxxxx") {
		t.Error("the logged config lacks the masked gdpr_token")
	}
}
