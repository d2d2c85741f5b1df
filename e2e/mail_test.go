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
		fmt.Fprintf(&b, "  %d. %s to %v, subject %q, X-Order-Id %q, Message-ID %q\n",
			i+1, mailKind(m), m.To, m.Subject, m.Header("X-Order-Id"), m.MessageID)
	}
	return b.String()
}

// Kinds of mail the email service sends, told apart by their subject as
// the customer sees it ("Your orderbus order 1a2b3c4d is received", "Sorry,
// your orderbus order 1a2b3c4d could not be fulfilled").
const (
	kindReceipt = "receipt"
	kindApology = "apology"
)

// mailKind returns kindReceipt, kindApology or "unknown" for m.
func mailKind(m mailcatch.Message) string {
	switch {
	case strings.HasPrefix(m.Subject, "Your orderbus order ") && strings.HasSuffix(m.Subject, " is received"):
		return kindReceipt
	case strings.HasPrefix(m.Subject, "Sorry, your orderbus order ") && strings.HasSuffix(m.Subject, " could not be fulfilled"):
		return kindApology
	}
	return "unknown"
}

// checkReceipts checks msgs are exactly one receipt per order, each to the
// order's customer: no order without a mail, none with two, no stray mail
// (an apology included).
func checkReceipts(t *testing.T, msgs []mailcatch.Message, orders map[string]orderRequest) {
	t.Helper()
	checkMails(t, msgs, orders, nil)
}

// checkMails checks msgs are exactly one receipt per order and one apology
// per rejected order, each to the order's customer and naming the order in
// its subject: nothing missing, nothing twice, no stray mail.
func checkMails(t *testing.T, msgs []mailcatch.Message, orders map[string]orderRequest, rejected map[string]bool) {
	t.Helper()
	seen := map[string]map[string]int{} // order id → kind → mails
	for _, m := range msgs {
		id, kind := m.Header("X-Order-Id"), mailKind(m)
		if seen[id] == nil {
			seen[id] = map[string]int{}
		}
		seen[id][kind]++
		o, ok := orders[id]
		if !ok {
			t.Errorf("%s mail with X-Order-Id %q matches no order placed", kind, id)
			continue
		}
		if kind == "unknown" {
			t.Errorf("mail of order %s has the subject %q of neither a receipt nor an apology", id, m.Subject)
		}
		if !strings.Contains(m.Subject, id[:8]) {
			t.Errorf("%s of order %s: subject %q does not name the order", kind, id, m.Subject)
		}
		if !slices.ContainsFunc(m.To, func(to string) bool { return strings.Contains(to, o.Customer.Email) }) {
			t.Errorf("%s of order %s went to %v, want %s", kind, id, m.To, o.Customer.Email)
		}
	}
	for id := range orders {
		wantApologies := 0
		if rejected[id] {
			wantApologies = 1
		}
		if n := seen[id][kindReceipt]; n != 1 {
			t.Errorf("order %s: %d receipts, want exactly 1", id, n)
		}
		if n := seen[id][kindApology]; n != wantApologies {
			t.Errorf("order %s (rejected: %t): %d apologies, want %d", id, rejected[id], n, wantApologies)
		}
	}
	for id := range rejected {
		if _, ok := orders[id]; !ok {
			t.Fatalf("checkMails: rejected order %s is not among the orders", id)
		}
	}
	if want := len(orders) + len(rejected); len(msgs) != want {
		t.Errorf("%d mails for %d orders of which %d rejected, want %d", len(msgs), len(orders), len(rejected), want)
	}
	if t.Failed() {
		t.Logf("mails seen:\n%s", describe(msgs))
	}
}

// waitExactlyOnce waits until every order has its receipt, then until the
// system has nothing left in flight (waitSettled), and checks the mails
// once more: a duplicate sent late would show up then. Every order must
// end with a receipt and no apology.
func waitExactlyOnce(t *testing.T, sys *launcher.System, mc mailcatch.Client, orders map[string]orderRequest, timeout time.Duration) []mailcatch.Message {
	t.Helper()
	return waitMailsExactlyOnce(t, sys, mc, orders, nil, timeout)
}

// waitMailsExactlyOnce is waitExactlyOnce for orders of which some were
// rejected: those must have an apology besides their receipt.
func waitMailsExactlyOnce(t *testing.T, sys *launcher.System, mc mailcatch.Client, orders map[string]orderRequest, rejected map[string]bool, timeout time.Duration) []mailcatch.Message {
	t.Helper()
	waitMails(t, mc, len(orders)+len(rejected), timeout)
	waitSettled(t, sys, timeout)
	msgs := mails(t, mc)
	checkMails(t, msgs, orders, rejected)
	return msgs
}

// mailsOfKind returns the mails of one kind by order id.
func mailsOfKind(msgs []mailcatch.Message, kind string) map[string]mailcatch.Message {
	byOrder := map[string]mailcatch.Message{}
	for _, m := range msgs {
		if mailKind(m) == kind {
			byOrder[m.Header("X-Order-Id")] = m
		}
	}
	return byOrder
}
