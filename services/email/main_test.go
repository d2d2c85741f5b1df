package main

import (
	"context"
	"maps"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/mailcatch"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
	"github.com/orderbus/orderbus/pkg/pgdb"
	"github.com/orderbus/orderbus/pkg/pgtest"
	"github.com/orderbus/orderbus/pkg/servicetest"
	"github.com/orderbus/orderbus/pkg/stack"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { pgtest.Main(m, &cluster) }

// testEnv is one running email service with its own nats-server, Mailpit
// (chaos API enabled) and database.
type testEnv struct {
	*servicetest.Service
	nats    *stack.NATS
	mailpit *stack.Mailpit
	catcher *mailcatch.Mailpit
	js      jetstream.JetStream
	pub     *natsjs.Publisher
	db      *pgxpool.Pool
}

// startEnv starts the infrastructure and the service (with fast retries),
// and waits for /readyz. env overrides variables. The service is stopped
// at cleanup, and run must then return nil.
func startEnv(t *testing.T, env map[string]string) *testEnv {
	t.Helper()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	e := startService(t, srv, env)
	e.js, e.pub = js, natsjs.NewPublisher(js)
	e.WaitReady(t)
	return e
}

// startService starts a Mailpit, a fresh database and the service against
// srv, which may be stopped, without waiting for anything; the result has
// no JetStream handle yet. env overrides variables.
func startService(t *testing.T, srv *stack.NATS, env map[string]string) *testEnv {
	t.Helper()
	mp := startMailpit(t)
	dbURL := cluster.NewDatabase(t)
	vars := map[string]string{
		"DATABASE_URL":         dbURL,
		"LOG_LEVEL":            "debug",
		"LOG_FORMAT":           "text",
		"SHUTDOWN_TIMEOUT":     "10s",
		"SMTP_HOST":            mp.SMTPHost(),
		"SMTP_PORT":            strconv.Itoa(mp.SMTPPort()),
		"SMTP_TIMEOUT":         "2s",
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
	e := &testEnv{
		Service: servicetest.Start(t, run, vars),
		nats:    srv, mailpit: mp,
		catcher: mailcatch.NewMailpit(mp.APIURL(), http.DefaultClient),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	if e.db, err = pgdb.Open(ctx, dbURL, pgdb.Limits{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.db.Close)
	return e
}

func startMailpit(t *testing.T) *stack.Mailpit {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	mp, err := stack.StartMailpit(ctx, stack.MailpitConfig{Chaos: true})
	if err != nil {
		t.Fatalf("start mailpit: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() && mp.Process() != nil {
			t.Logf("mailpit log tail:\n%s", mp.Process().Tail(20))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := mp.Close(ctx); err != nil {
			t.Errorf("close mailpit: %v", err)
		}
	})
	return mp
}
