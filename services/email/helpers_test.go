package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/mailcatch"
	"github.com/orderbus/orderbus/pkg/servicetest"
	"github.com/orderbus/orderbus/pkg/stack"
)

// newOrderPlaced returns an order placed event for a new order and customer.
func newOrderPlaced(t *testing.T) (events.Event, events.OrderPlaced) {
	t.Helper()
	p := events.OrderPlaced{
		OrderID: uuid.NewString(),
		Customer: events.Customer{
			ID: uuid.NewString(), Name: "Ada Lovelace",
			Email: "ada." + rand8() + "@example.com", Phone: "+44 20 7946 0000",
		},
		Items:    []events.Item{{SKU: "SKU-TEA", Quantity: 2}, {SKU: "SKU-CUP", Quantity: 1}},
		PlacedAt: time.Now().UTC(),
	}
	ev, err := events.New("/orderbus/order", events.TypeOrderPlaced, p.OrderID, p)
	if err != nil {
		t.Fatal(err)
	}
	return ev, p
}

func rand8() string { return uuid.NewString()[:8] }

// publish stores ev on the orders.placed subject of customerID.
func (e *testEnv) publish(t *testing.T, ev events.Event, customerID string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.pub.Publish(ctx, events.OrderPlacedSubject(customerID), ev); err != nil {
		t.Fatal(err)
	}
}

// mails returns the messages in Mailpit with the Message-ID of eventID.
func (e *testEnv) mails(t *testing.T, eventID string) []mailcatch.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	all, err := e.catcher.Messages(ctx)
	if err != nil {
		t.Fatalf("read mailpit: %v", err)
	}
	var out []mailcatch.Message
	for _, m := range all {
		if strings.Trim(m.MessageID, "<>") == eventID+"@orderbus.example" {
			out = append(out, m)
		}
	}
	return out
}

// allMails counts every message in Mailpit.
func (e *testEnv) allMails(t *testing.T) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	all, err := e.catcher.Messages(ctx)
	if err != nil {
		t.Fatalf("read mailpit: %v", err)
	}
	return len(all)
}

// rows returns the mails rows of eventID.
func (e *testEnv) rows(t *testing.T, eventID string) []Mail {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out []Mail
	rows, err := e.db.Query(ctx, `SELECT status, COALESCE(error, ''), attempts, message_id FROM mails WHERE event_id = $1`, eventID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var m Mail
		if err := rows.Scan(&m.Status, &m.Error, &m.Attempts, &m.MessageID); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// settled waits until the email consumer has acknowledged (or terminated)
// every message up to stream sequence seq and holds none.
func (e *testEnv) settled(t *testing.T, seq uint64) {
	t.Helper()
	servicetest.WaitFor(t, 15*time.Second, "the email consumer to settle", func() (bool, string) {
		return servicetest.Settled(e.js, events.StreamOrders, durableEmail, seq)
	})
}

// lastSeq returns the ORDERS stream's last sequence.
func (e *testEnv) lastSeq(t *testing.T) uint64 {
	t.Helper()
	return servicetest.LastSeq(t, e.js, events.StreamOrders)
}

// dlq returns the messages dead-lettered by the email consumer for a
// message on subject.
func (e *testEnv) dlq(t *testing.T, subject string) []*jetstream.RawStreamMsg {
	t.Helper()
	return servicetest.DeadLetters(t, e.js, durableEmail, subject)
}

// metric returns the value of the sample line starting with series, e.g.
// email_mails_total{kind="receipt",outcome="retry"}, or 0.
func (e *testEnv) metric(t *testing.T, series string) float64 {
	t.Helper()
	v, _ := e.Metric(t, series)
	return v
}

// setChaos makes Mailpit answer RCPT TO with code, with probability 0-100.
func (e *testEnv) setChaos(t *testing.T, code, probability int) {
	t.Helper()
	setChaos(t, e.mailpit, map[string]chaosTrigger{"Recipient": {code, probability}})
}

// chaosTrigger is one trigger of Mailpit's chaos API: the SMTP reply code
// to answer with, and the probability (0-100) of answering it.
type chaosTrigger struct {
	ErrorCode   int
	Probability int
}

// setChaos sets Mailpit's chaos triggers ("Sender" for MAIL FROM,
// "Recipient" for RCPT TO, "Authentication"); the triggers not named are
// switched off.
func setChaos(t testing.TB, mp *stack.Mailpit, triggers map[string]chaosTrigger) {
	t.Helper()
	body, _ := json.Marshal(triggers)
	req, _ := http.NewRequest(http.MethodPut, mp.APIURL()+"/api/v1/chaos", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("set chaos: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("set chaos: %s: %s", resp.Status, b)
	}
}
