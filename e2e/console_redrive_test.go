package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/orderbus/orderbus/e2e/launcher"
	"github.com/orderbus/orderbus/pkg/dlq"
)

// TestConsoleRedrivesADeadLetter: a receipt the SMTP server refused for
// good is dead-lettered; the console's redrive refuses a request without
// a token, and with the operator's token republishes it, over the
// operator NATS identity it keeps apart from its read-only one, and waits
// for the email durable to acknowledge it: the customer gets one receipt.
func TestConsoleRedrivesADeadLetter(t *testing.T) {
	t.Parallel()
	sys := newChaosSystemOf(t, append(launcher.DefaultServices(), "console"))
	mc := mailbox(t, sys)
	q, err := dlq.Open(t.Context(), jetStream(t, sys))
	if err != nil {
		t.Fatal(err)
	}
	setChaos(t, sys, map[string]any{"Recipient": map[string]int{"ErrorCode": 550, "Probability": 100}})
	o := sampleOrder()
	id := placeOrder(t, sys, o)
	var letter dlq.Entry
	eventually(t, 60*time.Second, "the receipt dead-lettered", func(ctx context.Context) (bool, string) {
		entries, err := q.List(ctx, dlq.Filter{Consumer: emailConsumer})
		if err != nil || len(entries) == 0 {
			return false, fmt.Sprintf("%d dead letters (%v)", len(entries), err)
		}
		letter = entries[0]
		return true, ""
	})
	setChaos(t, sys, map[string]any{}) // the SMTP server accepts again

	url := fmt.Sprintf("%s/v1/dead-letters/%d/redrive", sys.ServiceURL("console"), letter.Seq)
	redrive := func(token string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := redrive(""); code != http.StatusUnauthorized {
		t.Fatalf("redrive without a token = %d %s, want 401", code, body)
	}
	code, body := redrive(sys.OperatorToken())
	var res struct {
		Consumer string `json:"consumer"`
		Acked    bool   `json:"acked"`
	}
	if err := json.Unmarshal([]byte(body), &res); code != http.StatusOK || err != nil || !res.Acked || res.Consumer != emailConsumer {
		t.Fatalf("redrive with the operator token = %d %s, want 200 acknowledged by %s", code, body, emailConsumer)
	}
	waitExactlyOnce(t, sys, mc, map[string]orderRequest{id: o}, 60*time.Second)
	if left, err := q.List(t.Context(), dlq.Filter{Consumer: emailConsumer}); err != nil || len(left) != 0 {
		t.Errorf("DLQ after the redrive holds %+v (%v), want nothing of email", left, err)
	}
}
