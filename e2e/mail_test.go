package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orderbus/orderbus/e2e/launcher"
	"github.com/orderbus/orderbus/pkg/mailcatch"
)

// mailbox returns a client of the system's mail catcher.
func mailbox(t *testing.T, sys *launcher.System) mailcatch.Client {
	t.Helper()
	mc, err := mailcatch.New(t.Context(), sys.MailAPIURL(), nil)
	if err != nil {
		t.Fatalf("mail catcher at %s: %v", sys.MailAPIURL(), err)
	}
	return mc
}

// waitMails polls the mail catcher until it holds at least want messages,
// and returns them; it fails t at the deadline with what it saw.
func waitMails(t *testing.T, mc mailcatch.Client, want int, timeout time.Duration) []mailcatch.Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		msgs, err := mc.Messages(ctx)
		cancel()
		if err == nil && len(msgs) >= want {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting %v for %d mails: saw %d (error: %v):\n%s", timeout, want, len(msgs), err, describe(msgs))
		}
		<-tick.C
	}
}

// mails returns the mail catcher's messages now.
func mails(t *testing.T, mc mailcatch.Client) []mailcatch.Message {
	t.Helper()
	msgs, err := mc.Messages(t.Context())
	if err != nil {
		t.Fatalf("read mail catcher: %v", err)
	}
	return msgs
}

// describe lists mails one a line, for failure messages.
func describe(msgs []mailcatch.Message) string {
	var b strings.Builder
	for i, m := range msgs {
		fmt.Fprintf(&b, "  %d. to %v, subject %q, X-Order-Id %q, Message-ID %q\n",
			i+1, m.To, m.Subject, m.Header("X-Order-Id"), m.MessageID)
	}
	return b.String()
}

// checkReceipts checks msgs are exactly one receipt per order, each to the
// order's customer: no order without a mail, none with two, no stray mail.
func checkReceipts(t *testing.T, msgs []mailcatch.Message, orders map[string]orderRequest) {
	t.Helper()
	seen := map[string]int{}
	for _, m := range msgs {
		id := m.Header("X-Order-Id")
		seen[id]++
		o, ok := orders[id]
		if !ok {
			t.Errorf("mail with X-Order-Id %q matches no order placed", id)
			continue
		}
		if !slices.ContainsFunc(m.To, func(to string) bool { return strings.Contains(to, o.Customer.Email) }) {
			t.Errorf("receipt of order %s went to %v, want %s", id, m.To, o.Customer.Email)
		}
	}
	for id := range orders {
		if seen[id] != 1 {
			t.Errorf("order %s: %d receipts, want exactly 1", id, seen[id])
		}
	}
	if len(msgs) != len(orders) {
		t.Errorf("%d mails for %d orders", len(msgs), len(orders))
	}
	if t.Failed() {
		t.Logf("mails seen:\n%s", describe(msgs))
	}
}

// waitExactlyOnce waits until every order has its receipt, then until the
// system has nothing left in flight (waitSettled), and checks the mails
// once more: a duplicate sent late would show up then.
func waitExactlyOnce(t *testing.T, sys *launcher.System, mc mailcatch.Client, orders map[string]orderRequest, timeout time.Duration) []mailcatch.Message {
	t.Helper()
	waitMails(t, mc, len(orders), timeout)
	waitSettled(t, sys, timeout)
	msgs := mails(t, mc)
	checkReceipts(t, msgs, orders)
	return msgs
}
