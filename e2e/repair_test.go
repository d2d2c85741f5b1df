package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
)

// A stream deleted while the system runs makes every service not ready
// until it is recreated; then orders flow again, each receipt once.
func TestStreamDeletedAtRunTime(t *testing.T) {
	t.Parallel()
	sys := newSystem(t, nil)
	js := jetStream(t, sys)

	if err := js.DeleteStream(t.Context(), events.StreamOrders); err != nil {
		t.Fatal(err)
	}
	// A stream holding ORDERS' subjects keeps the services from recreating
	// it before the test has seen them report it.
	if _, err := js.CreateStream(t.Context(), jetstream.StreamConfig{Name: "BLOCKER",
		Subjects: []string{"orders.>"}, Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	for _, name := range sys.Services() {
		eventually(t, 30*time.Second, name+" /readyz 503 naming ORDERS", func(ctx context.Context) (bool, string) {
			code, body := getBody(ctx, sys.ServiceURL(name)+"/readyz")
			return code == http.StatusServiceUnavailable && strings.Contains(body, events.StreamOrders),
				fmt.Sprintf("%d %s", code, body)
		})
	}
	if err := js.DeleteStream(t.Context(), "BLOCKER"); err != nil {
		t.Fatal(err)
	}
	for _, name := range sys.Services() {
		eventually(t, 30*time.Second, name+" ready again", func(ctx context.Context) (bool, string) {
			code, body := getBody(ctx, sys.ServiceURL(name)+"/readyz")
			return code == http.StatusOK, fmt.Sprintf("%d %s", code, body)
		})
	}
	orders := placeOrders(t, sys, 3)
	waitExactlyOnce(t, sys, mailbox(t, sys), orders, 60*time.Second)
}

// Ten graceful restarts of the email service while a backlog waits
// dead-letter nothing, and every receipt arrives once.
func TestGracefulRestartsDuringBacklog(t *testing.T) {
	t.Parallel()
	sys := newSystem(t, map[string]map[string]string{"email": {"CONSUMER_CONCURRENCY": "2"}})
	js := jetStream(t, sys)

	if err := sys.StopService(t.Context(), "email"); err != nil {
		t.Fatal(err)
	}
	orders := placeOrders(t, sys, 40)
	for range 10 {
		if err := sys.StartService(t.Context(), "email"); err != nil {
			t.Fatal(err)
		}
		if err := sys.StopService(t.Context(), "email"); err != nil {
			t.Fatal(err)
		}
	}
	if err := sys.StartService(t.Context(), "email"); err != nil {
		t.Fatal(err)
	}
	waitExactlyOnce(t, sys, mailbox(t, sys), orders, 90*time.Second)
	if n := mustStreamMessages(t, js, events.StreamDLQ, ""); n != 0 {
		t.Errorf("%d messages dead-lettered after ten restarts, want 0", n)
	}
}
