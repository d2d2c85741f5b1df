package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
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

// testEnv is one running SMS service with its own nats-server and
// database.
type testEnv struct {
	t       *testing.T
	nats    *stack.NATS
	js      jetstream.JetStream
	pub     *natsjs.Publisher
	db      *pgxpool.Pool
	logs    *testWriter
	baseURL string
}

// startEnv starts the infrastructure and the service (run in a goroutine,
// with fast retries and the log provider unless env says otherwise), and
// waits for /readyz. env overrides variables. The service is stopped at
// cleanup, and run must then return nil.
func startEnv(t *testing.T, env map[string]string) *testEnv {
	t.Helper()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
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
		"SMS_WEBHOOK_TIMEOUT":  "2s",
		"CONSUMER_CONCURRENCY": "4",
		"CONSUMER_BACKOFF":     "50ms,100ms,200ms",
	}
	maps.Copy(vars, env)

	logs := &testWriter{t: t}
	t.Cleanup(logs.close) // registered before the service's cleanup, so it runs after it
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, nil, func(k string) string { return vars[k] }, logs, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("run returned %v after shutdown, want nil", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("run did not return within 30s of shutdown")
		}
	})

	e := &testEnv{
		t: t, nats: srv, js: js, pub: natsjs.NewPublisher(js), logs: logs,
		baseURL: "http://" + vars["HTTP_ADDR"],
	}
	pctx, pcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer pcancel()
	if e.db, err = pgdb.Open(pctx, dbURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.db.Close)

	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-errc:
			t.Fatalf("run returned before ready: %v", err)
		default:
		}
		if code, _ := e.get("/readyz"); code == http.StatusOK {
			return e
		}
		if time.Now().After(deadline) {
			_, body := e.get("/readyz")
			t.Fatalf("service not ready after 20s: %s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startWebhookEnv starts a webhook receiver answering statuses (see
// webhookServer) and the service sending to it.
func startWebhookEnv(t *testing.T, statuses ...int) (*testEnv, *webhookServer) {
	t.Helper()
	hook := startWebhook(t, statuses...)
	e := startEnv(t, map[string]string{"SMS_PROVIDER": "webhook", "SMS_WEBHOOK_URL": hook.URL + "/sms"})
	return e, hook
}

// get fetches path from the service and returns the status and body.
func (e *testEnv) get(path string) (int, string) {
	resp, err := http.Get(e.baseURL + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}
