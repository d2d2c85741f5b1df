package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/events"
)

// Orders placed while the email service is down are all accepted, wait in
// the stream, and each gets exactly one receipt once it is back.
func TestEmailServiceDown(t *testing.T) {
	t.Parallel()
	sys := newSystem(t, nil)
	mc := mailbox(t, sys)
	js := jetStream(t, sys)
	emailURL := sys.ServiceURL("email")

	if err := sys.StopService(t.Context(), "email"); err != nil {
		t.Fatal(err)
	}
	orders := placeOrders(t, sys, 20)
	eventually(t, 30*time.Second, "20 order events in the stream", func(ctx context.Context) (bool, string) {
		n, err := streamMessages(ctx, js, events.StreamOrders, events.FilterOrderPlaced)
		return n == 20, fmt.Sprintf("%d messages (%v)", n, err)
	})
	if msgs := mails(t, mc); len(msgs) != 0 {
		t.Fatalf("%d mails while the email service was down:\n%s", len(msgs), describe(msgs))
	}

	if err := sys.StartService(t.Context(), "email"); err != nil {
		t.Fatal(err)
	}
	if got := sys.ServiceURL("email"); got != emailURL {
		t.Errorf("email service restarted on %s, want %s", got, emailURL)
	}
	waitExactlyOnce(t, sys, mc, orders, 90*time.Second)
}

// Orders placed while the mail catcher (the SMTP server) is down are
// accepted; the email service retries, and once SMTP is back every receipt
// arrives exactly once and nothing is dead-lettered.
func TestMailCatcherDown(t *testing.T) {
	t.Parallel()
	sys := newSystem(t, map[string]map[string]string{"email": {
		"CONSUMER_BACKOFF":     "200ms,500ms,1s",
		"CONSUMER_MAX_DELIVER": "100",
		"SMTP_TIMEOUT":         "2s",
	}})
	js := jetStream(t, sys)

	if err := sys.Mailpit().Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	orders := placeOrders(t, sys, 5)
	// The email service must have tried and failed before SMTP comes back,
	// or this test would prove nothing about retries.
	eventually(t, 30*time.Second, "email service retrying", func(ctx context.Context) (bool, string) {
		info, err := emailConsumerInfo(ctx, js)
		if err != nil {
			return false, err.Error()
		}
		return info.NumRedelivered > 0, fmt.Sprintf("%d delivered, %d redelivered, %d awaiting ack",
			info.Delivered.Consumer, info.NumRedelivered, info.NumAckPending)
	})

	if err := sys.Mailpit().Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	waitExactlyOnce(t, sys, mailbox(t, sys), orders, 90*time.Second)
	if n := mustStreamMessages(t, js, events.StreamDLQ, ""); n != 0 {
		t.Errorf("%d messages dead-lettered, want 0", n)
	}
}

// With the broker down, POST /v1/orders still answers 202 (the order and
// its event are safe in PostgreSQL); once the broker is back the outbox
// relay publishes them and every receipt arrives exactly once.
func TestBrokerDown(t *testing.T) {
	t.Parallel()
	sys := newSystem(t, map[string]map[string]string{"order": {
		"PUBLISH_TIMEOUT": "500ms",
		"OUTBOX_INTERVAL": "200ms",
	}})
	mc := mailbox(t, sys)

	if err := sys.NATS().Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	orders := placeOrders(t, sys, 5)
	for id := range orders {
		getOrder(t, sys, id)
	}
	if n, err := countRows(t.Context(), sys.DatabaseURL("order"), "outbox"); err != nil || n != 5 {
		t.Errorf("outbox holds %d events (%v) while the broker is down, want 5", n, err)
	}

	if err := sys.NATS().Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	js := jetStream(t, sys)
	waitExactlyOnce(t, sys, mc, orders, 90*time.Second)
	if n := mustStreamMessages(t, js, events.StreamOrders, events.FilterOrderPlaced); n != 5 {
		t.Errorf("stream holds %d order placed events, want 5 (one per order)", n)
	}
}
