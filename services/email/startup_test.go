package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/mailcatch"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
	"github.com/orderbus/orderbus/pkg/stack"
)

// TestStartsWhileNATSDown starts the service with its nats-server
// stopped: start-up does not wait for the broker, and once the server is
// up the consumer, created late, sends the mail of an event.
func TestStartsWhileNATSDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := natstest.Start(t)
	if err := srv.Stop(ctx); err != nil {
		t.Fatalf("stop nats-server: %v", err)
	}
	mp := startMailpit(t)
	port, err := stack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"HTTP_ADDR": fmt.Sprintf("127.0.0.1:%d", port), "DATABASE_URL": cluster.NewDatabase(t),
		"NATS_URL": srv.URL(), "LOG_LEVEL": "debug", "LOG_FORMAT": "text", "SHUTDOWN_TIMEOUT": "10s",
		"SMTP_HOST": mp.SMTPHost(), "SMTP_PORT": strconv.Itoa(mp.SMTPPort()), "CONSUMER_BACKOFF": "50ms",
	}
	logs := &testWriter{t: t}
	t.Cleanup(logs.close)
	runCtx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	start := time.Now()
	go func() { errc <- run(runCtx, nil, func(k string) string { return vars[k] }, logs, io.Discard) }()
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
	e := &testEnv{t: t, nats: srv, mailpit: mp, baseURL: "http://" + vars["HTTP_ADDR"],
		catcher: mailcatch.NewMailpit(mp.APIURL(), http.DefaultClient)}

	e.waitFor(20*time.Second, "/healthz", func() (bool, string) {
		code, body := e.get("/healthz")
		return code == http.StatusOK, body
	})
	if elapsed := time.Since(start); elapsed > 4*time.Second {
		t.Errorf("the service took %s to serve /healthz with NATS down, want it not to wait for NATS", elapsed)
	}
	if code, _ := e.get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d with NATS down, want 503", code)
	}

	e.waitFor(20*time.Second, "nats-server to start on its port", func() (bool, string) {
		if err := srv.Start(ctx); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	e.waitFor(20*time.Second, "/readyz", func() (bool, string) {
		code, body := e.get("/readyz")
		return code == http.StatusOK, body
	})
	_, e.js = natstest.Connect(t, srv)
	e.pub = natsjs.NewPublisher(e.js)
	_, p := newOrderPlaced(t)
	ev := newOrderRejected(t, p, "SKU-TEA")
	e.publishRaw(&nats.Msg{Subject: events.OrderRejectedSubject(p.Customer.ID), Header: ev.Header(), Data: ev.Data})
	e.waitFor(20*time.Second, "the apology", func() (bool, string) {
		n := len(e.mails(ev.ID))
		return n == 1, fmt.Sprintf("%d mails", n)
	})
}
