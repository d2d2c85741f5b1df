package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

// switchableHook is an SMS webhook receiver that answers every request
// with the status the test sets, and counts the requests by method.
type switchableHook struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	calls  map[string]int
}

func startSwitchableHook(t *testing.T, status int) *switchableHook {
	t.Helper()
	h := &switchableHook{status: status, calls: map[string]int{}}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		h.mu.Lock()
		h.calls[r.Method]++
		status := h.status
		h.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *switchableHook) set(status int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.status = status
}

func (h *switchableHook) count(method string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls[method]
}

// TestWebhookMisconfiguredThenFixed: a receiver that refuses the service's
// credentials (401) is the sender's misconfiguration, not the message's.
// The messages wait, the consumer pauses on "sms-provider" and probes it,
// and once the receiver accepts again each SMS is sent once and nothing is
// dead-lettered.
func TestWebhookMisconfiguredThenFixed(t *testing.T) {
	t.Parallel()
	hook := startSwitchableHook(t, http.StatusUnauthorized)
	e := startEnv(t, map[string]string{
		"SMS_PROVIDER": "webhook", "SMS_WEBHOOK_URL": hook.URL + "/sms", "CONSUMER_PROBE_INTERVAL": "100ms",
	})
	type order struct{ eventID, subject string }
	var orders []order
	for range 3 {
		ev, p := newOrderPlaced(t)
		e.publish(t, ev, p.Customer.ID)
		orders = append(orders, order{ev.ID, events.OrderPlacedSubject(p.Customer.ID)})
	}
	paused := `orderbus_consumer_paused{dependency="sms-provider",durable="sms"}`
	servicetest.WaitFor(t, 30*time.Second, "the sms consumer to pause and probe", func() (bool, string) {
		n, heads := e.metric(t, paused), hook.count(http.MethodHead)
		return n == 1 && heads >= 2, fmt.Sprintf("paused %v, %d probes, %d sends", n, heads, hook.count(http.MethodPost))
	})
	for _, o := range orders {
		if n := len(e.dlq(t, o.subject)); n != 0 {
			t.Fatalf("event %s dead-lettered on a 401", o.eventID)
		}
		if rows := e.rows(t, o.eventID); len(rows) != 0 {
			t.Fatalf("event %s: messages rows %+v on a 401, want none", o.eventID, rows)
		}
	}

	hook.set(http.StatusAccepted)
	servicetest.WaitFor(t, 30*time.Second, "every SMS once the receiver accepts", func() (bool, string) {
		sent := 0
		for _, o := range orders {
			if rows := e.rows(t, o.eventID); len(rows) == 1 && rows[0].Status == statusSent {
				sent++
			}
		}
		return sent == len(orders), fmt.Sprintf("%d of %d sent", sent, len(orders))
	})
	e.settled(t, e.lastSeq(t))
	for _, o := range orders {
		if n := len(e.dlq(t, o.subject)); n != 0 {
			t.Errorf("event %s: %d DLQ messages, want none", o.eventID, n)
		}
		if rows := e.rows(t, o.eventID); len(rows) != 1 {
			t.Errorf("event %s: %d messages rows, want 1", o.eventID, len(rows))
		}
	}
	if n := e.metric(t, paused); n != 0 {
		t.Errorf("paused gauge = %v after the fix, want 0", n)
	}
}
