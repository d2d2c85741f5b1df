package main

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
	"github.com/orderbus/orderbus/pkg/pgdb"
	"github.com/orderbus/orderbus/pkg/pgtest"
	"github.com/orderbus/orderbus/pkg/servicetest"
	"github.com/orderbus/orderbus/pkg/stack"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { pgtest.Main(m, &cluster) }

// testEnv is one running SMS service with its own nats-server and
// database.
type testEnv struct {
	*servicetest.Service
	nats *stack.NATS
	js   jetstream.JetStream
	pub  *natsjs.Publisher
	db   *pgxpool.Pool
}

// startEnv starts the infrastructure and the service (with fast retries
// and the log provider unless env says otherwise), and waits for /readyz.
// env overrides variables. The service is stopped at cleanup, and run
// must then return nil.
func startEnv(t *testing.T, env map[string]string) *testEnv {
	t.Helper()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	dbURL := cluster.NewDatabase(t)
	vars := map[string]string{
		"DATABASE_URL":         dbURL,
		"LOG_LEVEL":            "debug",
		"LOG_FORMAT":           "text",
		"SHUTDOWN_TIMEOUT":     "10s",
		"SMS_WEBHOOK_TIMEOUT":  "2s",
		"CONSUMER_CONCURRENCY": "4",
		"CONSUMER_BACKOFF":     "50ms,100ms,200ms",
		"OUTBOX_INTERVAL":      "100ms",
	}
	// The service connects as its own NATS identity, so its tests prove
	// its permissions suffice.
	maps.Copy(vars, natstest.ServiceEnv(srv, serviceName))
	for k, v := range env {
		vars[k] = v
	}
	e := &testEnv{Service: servicetest.Start(t, run, vars), nats: srv, js: js, pub: natsjs.NewPublisher(js)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	if e.db, err = pgdb.Open(ctx, dbURL, pgdb.Limits{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.db.Close)
	e.WaitReady(t)
	return e
}

// startWebhookEnv starts a webhook receiver answering statuses (see
// webhookServer) and the service sending to it.
func startWebhookEnv(t *testing.T, statuses ...int) (*testEnv, *webhookServer) {
	t.Helper()
	hook := startWebhook(t, statuses...)
	e := startEnv(t, map[string]string{"SMS_PROVIDER": "webhook", "SMS_WEBHOOK_URL": hook.URL + "/sms"})
	return e, hook
}
