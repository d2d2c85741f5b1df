package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natstest"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

// TestStartsWhileNATSDown starts the service with its nats-server
// stopped: start-up does not wait for the broker, the stock API works, and
// once the server is up the consumer, created late, reserves an order.
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
		code, body := e.do(http.MethodGet, "/readyz", "")
		if code == http.StatusServiceUnavailable && strings.Contains(body, `"consumers":{"status":"error"`) {
			return true, ""
		}
		return false, fmt.Sprintf("/readyz = %d %s with NATS down, want 503 with the consumers not created", code, body)
	})
	sku := newSKU("S")
	e.setStock(t, sku, 3)

	servicetest.WaitFor(t, 20*time.Second, "nats-server to start on its port", func() (bool, string) {
		if err := srv.Start(ctx); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	// The test creates the streams another service manages, as admin.
	_, e.js = natstest.Connect(t, srv)
	e.WaitReady(t)

	ev, p := newOrderPlaced(t, events.Item{SKU: sku, Quantity: 2})
	e.settled(t, e.mustPublish(t, ev, p.Customer.ID))
	r := e.reservation(t, p.OrderID)
	if r == nil || r.Status != statusReserved {
		t.Fatalf("reservation = %+v, want reserved", r)
	}
	if n := e.level(t, sku); n != 1 {
		t.Errorf("stock = %d, want 1", n)
	}
	checkResult(t, e, ev, p, r, nil)
}
