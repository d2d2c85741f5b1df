package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
	"github.com/orderbus/orderbus/pkg/servicetest"
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
	e := startService(t, srv, map[string]string{"CONSUMER_BACKOFF": "50ms"})

	e.WaitStatus(t, "/healthz", http.StatusOK)
	if elapsed := time.Since(e.Started); elapsed > 4*time.Second {
		t.Errorf("the service took %s to serve /healthz with NATS down, want it not to wait for NATS", elapsed)
	}
	if code, _ := e.Get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d with NATS down, want 503", code)
	}

	servicetest.WaitFor(t, 20*time.Second, "nats-server to start on its port", func() (bool, string) {
		if err := srv.Start(ctx); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	// The test creates the streams another service manages, as admin.
	_, e.js = natstest.Connect(t, srv)
	e.WaitReady(t)
	e.pub = natsjs.NewPublisher(e.js)
	_, p := newOrderPlaced(t)
	ev := newOrderRejected(t, p, "SKU-TEA")
	servicetest.MustPublish(t, e.js, &nats.Msg{Subject: events.OrderRejectedSubject(p.Customer.ID), Header: ev.Header(), Data: ev.Data})
	servicetest.WaitFor(t, 20*time.Second, "the apology", func() (bool, string) {
		n := len(e.mails(t, ev.ID))
		return n == 1, fmt.Sprintf("%d mails", n)
	})
}
