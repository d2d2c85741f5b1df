package e2e

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
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
		"CONSUMER_BACKOFF": "200ms,500ms,1s",
		"SMTP_TIMEOUT":     "2s",
	}})
	js := jetStream(t, sys)

	if err := sys.Mailpit().Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	orders := placeOrders(t, sys, 5)
	// The email service must have tried and failed before SMTP comes back,
	// or this test would prove nothing about retries: its consumer pauses
	// on "smtp" and says so in /readyz, which stays 200 (degraded).
	eventually(t, 30*time.Second, "email consumer paused on smtp", func(ctx context.Context) (bool, string) {
		info, err := emailConsumerInfo(ctx, js)
		if err != nil {
			return false, err.Error()
		}
		code, body := getBody(ctx, sys.ServiceURL("email")+"/readyz")
		return info.Delivered.Consumer >= 5 && code == http.StatusOK && strings.Contains(body, "degraded") &&
				strings.Contains(body, "smtp"),
			fmt.Sprintf("%d delivered, %d awaiting ack; /readyz %d %s", info.Delivered.Consumer, info.NumAckPending, code, body)
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
// relay publishes them, every receipt arrives exactly once and every
// order is confirmed.
func TestBrokerDown(t *testing.T) {
	t.Parallel()
	fastOutbox := map[string]string{"PUBLISH_TIMEOUT": "500ms", "OUTBOX_INTERVAL": "200ms"}
	sys := newSystem(t, map[string]map[string]string{"order": fastOutbox, "inventory": fastOutbox})
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
	for id, o := range waitOrdersDecided(t, sys, orders, 30*time.Second) {
		if o.Status != statusConfirmed {
			t.Errorf("order %s is %s after the broker outage, want confirmed", id, o.Status)
		}
	}
}

// outageBackoff makes a restarted consumer retry quickly, so an outage
// test waits on the system, not on the default backoff of seconds.
var outageBackoff = map[string]string{"CONSUMER_BACKOFF": "100ms,200ms,500ms"}

// Orders placed while the sms service is down are accepted, confirmed and
// mailed; their order placed events wait on the sms consumer, and once the
// service is back every customer gets exactly one SMS.
func TestSMSServiceDown(t *testing.T) {
	t.Parallel()
	sys := newSystem(t, map[string]map[string]string{"sms": outageBackoff})
	mc := mailbox(t, sys)
	js := jetStream(t, sys)

	if err := sys.StopService(t.Context(), "sms"); err != nil {
		t.Fatal(err)
	}
	orders := placeOrders(t, sys, 5)
	waitMails(t, mc, len(orders), time.Minute)
	for id, o := range waitOrdersDecided(t, sys, orders, time.Minute) {
		if o.Status != statusConfirmed {
			t.Errorf("order %s is %s while the sms service is down, want confirmed", id, o.Status)
		}
	}
	info, err := consumerInfo(t.Context(), js, events.StreamOrders, smsConsumer)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumPending != uint64(len(orders)) || info.NumAckPending != 0 {
		t.Errorf("sms consumer while the service is down: %d pending, %d awaiting ack; want %d waiting, none delivered",
			info.NumPending, info.NumAckPending, len(orders))
	}

	if err := sys.StartService(t.Context(), "sms"); err != nil {
		t.Fatal(err)
	}
	waitTexts(t, sys, orders, time.Minute)
	waitExactlyOnce(t, sys, mc, orders, time.Minute)
	checkTexts(t, sys, orders)
}

// Orders placed while the inventory service is down are accepted and
// mailed a receipt, and stay pending: nothing else decides them. Once the
// service is back each is reserved once, and confirmed, or rejected with
// an apology when the stock cannot cover it.
func TestInventoryServiceDown(t *testing.T) {
	t.Parallel()
	sys := newSystem(t, map[string]map[string]string{"inventory": outageBackoff})
	mc := mailbox(t, sys)
	js := jetStream(t, sys)
	before := stockLevels(t, sys, "ESPRESSO-1KG", "MUG-WHITE", "GRINDER-HAND")

	if err := sys.StopService(t.Context(), "inventory"); err != nil {
		t.Fatal(err)
	}
	orders := placeOrders(t, sys, 4)
	tooMany := sampleOrder()
	tooMany.Items = []item{{SKU: "GRINDER-HAND", Quantity: before["GRINDER-HAND"] + 1}}
	rejectedID := placeOrder(t, sys, tooMany)
	orders[rejectedID] = tooMany

	// Once every receipt is out and the email consumer has nothing left,
	// an order that is still pending stays so for want of the inventory.
	waitMails(t, mc, len(orders), time.Minute)
	waitDrained(t, sys, time.Minute,
		settleStep{service: "order"},
		settleStep{service: "email", stream: events.StreamOrders, consumer: emailConsumer})
	for id := range orders {
		if o := getOrder(t, sys, id); o.Status != statusPending || len(o.History) != 1 {
			t.Errorf("order %s while the inventory service is down: %s, history %v; want pending only", id, o.Status, o.History)
		}
	}
	info, err := consumerInfo(t.Context(), js, events.StreamOrders, inventoryConsumer)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumPending != uint64(len(orders)) {
		t.Errorf("inventory consumer while the service is down: %d pending, want %d", info.NumPending, len(orders))
	}

	if err := sys.StartService(t.Context(), "inventory"); err != nil {
		t.Fatal(err)
	}
	waitOrdersDecided(t, sys, orders, time.Minute)
	waitMailsExactlyOnce(t, sys, mc, orders, map[string]bool{rejectedID: true}, time.Minute)
	want := maps.Clone(before)
	for id, o := range orders {
		if id == rejectedID {
			checkHistory(t, getOrder(t, sys, id), statusRejected)
			continue
		}
		checkHistory(t, getOrder(t, sys, id), statusConfirmed)
		for _, it := range o.Items {
			want[it.SKU] -= it.Quantity
		}
	}
	checkStock(t, sys, want)
	checkTexts(t, sys, orders)
}

// getBody GETs url and returns the status and body; 0 and the error text
// when there is no answer.
func getBody(ctx context.Context, url string) (int, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err.Error()
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, string(b)
}
