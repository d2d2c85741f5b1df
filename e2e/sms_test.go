package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/orderbus/orderbus/e2e/launcher"
)

// smsMessage is a record of GET /v1/messages of the sms service.
type smsMessage struct {
	OrderID string `json:"order_id"`
	To      string `json:"to"`
	Body    string `json:"body"`
	Status  string `json:"status"`
}

// textsTo returns the SMS the sms service lists as sent (or refused) to
// phone, newest first.
func textsTo(ctx context.Context, sys *launcher.System, phone string) ([]smsMessage, error) {
	var resp struct {
		Messages []smsMessage `json:"messages"`
	}
	u := sys.ServiceURL("sms") + "/v1/messages?limit=200&to=" + url.QueryEscape(phone)
	status, b, err := doJSONAuth(ctx, http.MethodGet, u, sys.OperatorToken(), nil, &resp)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d, body %s", u, status, b)
	}
	return resp.Messages, nil
}

// texts returns the SMS listed for each order's phone, by order id.
func texts(ctx context.Context, sys *launcher.System, orders map[string]orderRequest) (map[string][]smsMessage, error) {
	byOrder := make(map[string][]smsMessage, len(orders))
	for id, o := range orders {
		msgs, err := textsTo(ctx, sys, o.Customer.Phone)
		if err != nil {
			return byOrder, err
		}
		byOrder[id] = msgs
	}
	return byOrder, nil
}

// waitTexts waits until every order's phone has at least one SMS listed.
func waitTexts(t *testing.T, sys *launcher.System, orders map[string]orderRequest, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, fmt.Sprintf("an SMS to each of %d customers", len(orders)), func(ctx context.Context) (bool, string) {
		byOrder, err := texts(ctx, sys, orders)
		if err != nil {
			return false, err.Error()
		}
		var missing []string
		for id := range orders {
			if len(byOrder[id]) == 0 {
				missing = append(missing, id)
			}
		}
		return len(missing) == 0, fmt.Sprintf("no SMS yet for orders %v", missing)
	})
}

// checkTexts checks each order's customer (each with a phone of their own)
// got exactly one SMS, sent, about that order and naming it.
func checkTexts(t *testing.T, sys *launcher.System, orders map[string]orderRequest) {
	t.Helper()
	byOrder, err := texts(t.Context(), sys, orders)
	if err != nil {
		t.Fatal(err)
	}
	for id, o := range orders {
		msgs := byOrder[id]
		if len(msgs) != 1 {
			t.Errorf("order %s: %d SMS to %s, want exactly 1: %+v", id, len(msgs), o.Customer.Phone, msgs)
			continue
		}
		m := msgs[0]
		if m.OrderID != id || m.To != o.Customer.Phone || m.Status != "sent" || !strings.Contains(m.Body, id) {
			t.Errorf("order %s: SMS %+v; want one sent to %s about the order, naming it", id, m, o.Customer.Phone)
		}
	}
}
