package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

const (
	seriesPausedSMTP = `orderbus_consumer_paused{dependency="smtp",durable="email"}`
	seriesPausesSMTP = `orderbus_consumer_pauses_total{dependency="smtp",durable="email"}`
)

// oldBudget is how long the retry budget of before (10 deliveries) lasted
// with the test's backoff of 50ms, 100ms, 200ms (the last repeating): an
// outage longer than this dead-lettered every message then.
const oldBudget = 50*time.Millisecond + 100*time.Millisecond + 8*200*time.Millisecond

// TestSMTPOutageLongerThanTheOldBudget stops the mail server for longer
// than the old retry budget while orders come in. The consumer pauses on
// "smtp", stays alive and ready (degraded), and once the server is back
// every receipt arrives exactly once and nothing is dead-lettered. Only
// the backoff and the probe interval are compressed; the pause threshold
// is the default.
func TestSMTPOutageLongerThanTheOldBudget(t *testing.T) {
	t.Parallel()
	e := startEnv(t, map[string]string{"CONSUMER_PROBE_INTERVAL": "100ms"})
	ctx := t.Context()
	if err := e.mailpit.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	type order struct{ eventID, subject string }
	var orders []order
	for range 5 {
		ev, p := newOrderPlaced(t)
		e.publish(t, ev, p.Customer.ID)
		orders = append(orders, order{ev.ID, events.OrderPlacedSubject(p.Customer.ID)})
	}

	servicetest.WaitFor(t, 30*time.Second, "the email consumer to pause on smtp", func() (bool, string) {
		paused := e.metric(t, seriesPausedSMTP)
		return paused == 1, fmt.Sprintf("paused %v, %v retries", paused, e.metric(t, seriesRetry))
	})
	// Keep the server down for three times the old budget, the consumer
	// paused all along: then every message would have been dead-lettered.
	outage := time.NewTimer(3 * oldBudget)
	for waiting := true; waiting; {
		select {
		case <-outage.C:
			waiting = false
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(100 * time.Millisecond):
			if code, body := e.Get("/healthz"); code != http.StatusOK {
				t.Fatalf("/healthz during the outage = %d %s", code, body)
			}
		}
	}
	code, body := e.Get("/readyz")
	if code != http.StatusOK || !strings.Contains(body, "degraded") || !strings.Contains(body, "smtp") {
		t.Errorf("/readyz during the outage = %d %s, want 200, degraded, naming smtp", code, body)
	}
	if n := e.metric(t, seriesPausedSMTP); n != 1 {
		t.Errorf("paused gauge = %v after the outage, want 1", n)
	}
	for _, o := range orders {
		if n := len(e.dlq(t, o.subject)); n != 0 {
			t.Fatalf("event %s dead-lettered during the outage (%d DLQ messages)", o.eventID, n)
		}
	}

	if err := e.mailpit.Start(ctx); err != nil {
		t.Fatal(err)
	}
	servicetest.WaitFor(t, 30*time.Second, "every receipt after SMTP came back", func() (bool, string) {
		arrived := 0
		for _, o := range orders {
			if len(e.mails(t, o.eventID)) > 0 {
				arrived++
			}
		}
		return arrived == len(orders), fmt.Sprintf("%d of %d receipts", arrived, len(orders))
	})
	e.settled(t, e.lastSeq(t))

	for _, o := range orders {
		if n := len(e.mails(t, o.eventID)); n != 1 {
			t.Errorf("event %s: %d mails with its Message-ID, want 1", o.eventID, n)
		}
		if rows := e.rows(t, o.eventID); len(rows) != 1 || rows[0].Status != statusSent {
			t.Errorf("event %s: mails rows = %+v, want one sent row", o.eventID, rows)
		}
		if n := len(e.dlq(t, o.subject)); n != 0 {
			t.Errorf("event %s: %d DLQ messages, want none", o.eventID, n)
		}
	}
	if n := servicetest.StreamLen(t, e.js, events.StreamDLQ); n != 0 {
		t.Errorf("the DLQ stream holds %d messages, want none", n)
	}
	if n := e.metric(t, seriesPausesSMTP); n < 1 {
		t.Errorf("pauses on smtp = %v, want at least 1", n)
	}
	if n := e.metric(t, seriesPausedSMTP); n != 0 {
		t.Errorf("paused gauge = %v after the recovery, want 0", n)
	}
}
