package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natstest"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

// TestOrdersSurviveNATSOutage stops the nats-server: POST still answers 202
// at once with the order and its event stored; once the server is back the
// relay publishes the event.
func TestOrdersSurviveNATSOutage(t *testing.T) {
	t.Parallel()
	const publishTimeout = 10 * time.Second
	e := startEnv(t, map[string]string{"PUBLISH_TIMEOUT": publishTimeout.String(), "OUTBOX_INTERVAL": "50ms"})
	ctx := context.Background()

	if err := e.nats.Stop(ctx); err != nil {
		t.Fatalf("stop nats-server: %v", err)
	}
	servicetest.WaitFor(t, 10*time.Second, "/readyz to answer 503", func() (bool, string) {
		r := e.do(t, http.MethodGet, "/readyz", nil, nil)
		return r.status == http.StatusServiceUnavailable, string(r.body)
	})

	start := time.Now()
	resp := e.postOrder(t, orderBody(t, uuid.NewString(), "SKU-1"), "")
	elapsed := time.Since(start)

	if resp.status != http.StatusAccepted {
		t.Fatalf("status %d, want 202; body %s", resp.status, resp.body)
	}
	if elapsed > 2*time.Second {
		t.Errorf("POST took %s with NATS down, want well under PUBLISH_TIMEOUT %s", elapsed, publishTimeout)
	}
	if n := e.count(t, "orders"); n != 1 {
		t.Errorf("orders holds %d rows, want 1", n)
	}
	if n := e.count(t, "outbox"); n != 1 {
		t.Errorf("outbox holds %d rows, want the 1 pending event", n)
	}

	// Restarting on the same port can race with another process that took
	// the port meanwhile (an ephemeral client port, say): retry until free.
	servicetest.WaitFor(t, 20*time.Second, "nats-server to restart on its port", func() (bool, string) {
		if err := e.nats.Start(ctx); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	_, e.js = natstest.Connect(t, e.nats) // a fresh connection; the old one may still be backing off
	servicetest.WaitFor(t, 20*time.Second, "the relay to publish the event", func() (bool, string) {
		msgs, pending := e.streamMsgs(t), e.count(t, "outbox")
		return msgs == 1 && pending == 0, "stream msgs " + strconv.FormatUint(msgs, 10) + ", outbox rows " + strconv.Itoa(pending)
	})
}

// TestStartsWhileNATSDown starts the service with its nats-server stopped:
// start-up does not wait for the broker, orders are taken, and once the
// server is up the order-placed event goes out and the inventory consumer,
// created late, confirms the order.
func TestStartsWhileNATSDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := natstest.Start(t)
	if err := srv.Stop(ctx); err != nil {
		t.Fatalf("stop nats-server: %v", err)
	}
	e := startService(t, srv, nil)
	e.WaitStatus(t, "/healthz", http.StatusOK)
	if elapsed := time.Since(e.Started); elapsed > 4*time.Second {
		t.Errorf("the service took %s to serve /healthz with NATS down, want it not to wait for NATS", elapsed)
	}
	// /readyz answers from a cached check: "starting" until its first run.
	servicetest.WaitFor(t, 10*time.Second, "/readyz to report the consumers not created", func() (bool, string) {
		r := e.do(t, http.MethodGet, "/readyz", nil, nil)
		if r.status == http.StatusServiceUnavailable && strings.Contains(string(r.body), `"consumers":{"status":"error"`) {
			return true, ""
		}
		return false, fmt.Sprintf("/readyz = %d %s with NATS down, want 503 with the consumers not created", r.status, r.body)
	})
	customer := uuid.NewString()
	orderID := e.placeOrder(t, customer, "SKU-1")

	servicetest.WaitFor(t, 20*time.Second, "nats-server to start on its port", func() (bool, string) {
		if err := srv.Start(ctx); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	// The test creates the streams order waits for (another service's).
	_, e.js = natstest.Connect(t, srv)
	e.WaitReady(t)
	servicetest.WaitFor(t, 20*time.Second, "the relay to publish the order placed event", func() (bool, string) {
		n := len(servicetest.StreamMsgs(t, e.js, events.StreamOrders, events.OrderPlacedSubject(customer)))
		return n == 1, strconv.Itoa(n) + " messages"
	})
	subject, ev := inventoryReserved(t, orderID, customer)
	e.settled(t, servicetest.MustPublish(t, e.js, &nats.Msg{Subject: subject, Header: ev.Header(), Data: ev.Data}))
	if o := e.getOrder(t, orderID); o.Status != "confirmed" {
		t.Errorf("order status %q, want confirmed", o.Status)
	}
}
