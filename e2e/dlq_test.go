package e2e

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orderbus/orderbus/e2e/launcher"
	"github.com/orderbus/orderbus/pkg/dlq"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/stack"
)

// An SMTP server that refuses the receipt for good (550 to RCPT TO)
// makes the email consumer dead-letter it at once, while the order is
// confirmed, texted and reserved as usual. Once the cause is gone, the DLQ
// command's redrive delivers the receipt exactly once and empties the
// DLQ; sms and inventory skip the redriven message, so nothing else
// happens twice.
func TestRedrivePermanentRefusal(t *testing.T) {
	t.Parallel()
	sys := newChaosSystem(t)
	mc := mailbox(t, sys)
	js := jetStream(t, sys)
	q, err := dlq.Open(t.Context(), js)
	if err != nil {
		t.Fatal(err)
	}

	setChaos(t, sys, map[string]any{"Recipient": map[string]int{"ErrorCode": 550, "Probability": 100}})
	o := sampleOrder()
	id := placeOrder(t, sys, o)
	orders := map[string]orderRequest{id: o}
	var letter dlq.Entry
	eventually(t, 60*time.Second, "the receipt dead-lettered", func(ctx context.Context) (bool, string) {
		entries, err := q.List(ctx, dlq.Filter{Consumer: emailConsumer})
		if err != nil || len(entries) == 0 {
			return false, fmt.Sprintf("%d dead letters (%v)", len(entries), err)
		}
		letter = entries[0]
		return true, ""
	})
	if letter.OrderID != id || letter.Reason != "permanent" || letter.Type != events.TypeOrderPlaced ||
		letter.Deliveries != 1 || !strings.Contains(letter.Error, "550") {
		t.Errorf("dead letter %+v: want order %s placed, permanent at the first delivery, with the 550", letter, id)
	}

	// Everything else happened: confirmed, texted, reserved.
	decided := waitOrdersDecided(t, sys, orders, 60*time.Second)
	checkHistory(t, decided[id], statusConfirmed)
	waitTexts(t, sys, orders, 60*time.Second)
	waitSettled(t, sys, 60*time.Second)
	if msgs := mails(t, mc); len(msgs) != 0 {
		t.Fatalf("%d mails while the SMTP server refused them:\n%s", len(msgs), describe(msgs))
	}
	if all, err := q.List(t.Context(), dlq.Filter{}); err != nil || len(all) != 1 {
		t.Fatalf("DLQ holds %+v (%v), want only the receipt", all, err)
	}
	if n := metric(t, sys, "email", `orderbus_consumer_dlq_messages{durable="email"}`); n != 1 {
		t.Errorf("email's dead-letter gauge is %v, want 1", n)
	}
	stock := stockLevels(t, sys, "ESPRESSO-1KG", "MUG-WHITE")
	rows := map[string]map[string]int64{}
	for _, svc := range []string{"order", "sms", "inventory"} {
		rows[svc] = storedRows(t, sys, svc)
	}
	before := getOrder(t, sys, id)

	setChaos(t, sys, map[string]any{}) // every trigger off
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	results, err := q.RedriveMatching(ctx, dlq.MustParseFilter("consumer=email"), dlq.RedriveOptions{Wait: 60 * time.Second})
	if err != nil {
		t.Fatalf("redrive: %v (%+v)", err, results)
	}
	if len(results) != 1 || !results[0].Acked || results[0].DeadLetteredAgain != 0 || results[0].Entry.Seq != letter.Seq {
		t.Fatalf("redrive results %+v, want DLQ seq %d acknowledged", results, letter.Seq)
	}

	waitExactlyOnce(t, sys, mc, orders, 60*time.Second)
	if left, err := q.List(t.Context(), dlq.Filter{}); err != nil || len(left) != 0 {
		t.Errorf("DLQ holds %+v (%v) after the redrive, want nothing", left, err)
	}
	if n := mustStreamMessages(t, js, events.StreamDLQ, ""); n != 0 {
		t.Errorf("DLQ stream holds %d messages, want 0", n)
	}
	if n := metric(t, sys, "email", `orderbus_consumer_dlq_messages{durable="email"}`); n != 0 {
		t.Errorf("email's dead-letter gauge is %v after the redrive, want 0", n)
	}

	// No other consumer repeated its effect: they skipped the redrive, and
	// stock, texts, reservations and the order's history are as they were.
	for _, c := range []struct{ service, durable string }{{"sms", smsConsumer}, {"inventory", inventoryConsumer}} {
		series := fmt.Sprintf(`orderbus_consumer_messages_total{durable=%q,outcome="skipped_redrive"}`, c.durable)
		if n := metric(t, sys, c.service, series); n != 1 {
			t.Errorf("%s: %s is %v, want 1", c.service, series, n)
		}
	}
	checkStock(t, sys, stock)
	checkTexts(t, sys, orders)
	for svc, want := range rows {
		if got := storedRows(t, sys, svc); !maps.Equal(got, want) {
			t.Errorf("%s's rows went from %v to %v", svc, want, got)
		}
	}
	after := getOrder(t, sys, id)
	if after.Status != before.Status || len(after.History) != len(before.History) ||
		!after.History[len(after.History)-1].At.Equal(before.History[len(before.History)-1].At) {
		t.Errorf("order changed with the redrive: %+v, was %+v", after, before)
	}
}

// newChaosSystem is newSystem with its own nats-server and a Mailpit whose
// chaos API is on (PUT /api/v1/chaos), whatever E2E_INFRA says: MailHog,
// the containers' mail catcher, has no such API.
func newChaosSystem(t *testing.T) *launcher.System {
	t.Helper()
	return newChaosSystemOf(t, nil)
}

// newChaosSystemOf is newChaosSystem running services (nil: the default
// ones); a service without a binary of the run's is built.
func newChaosSystemOf(t *testing.T, services []string) *launcher.System {
	t.Helper()
	if skipAll != "" {
		t.Skip(skipAll) // only E2E_INFRA=docker with no Docker engine sets it
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	sys, err := launcher.Start(ctx, launcher.Config{Postgres: cluster, Infrastructure: chaosInfra{},
		Binaries: binaries, Services: services})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := sys.Close(ctx); err != nil {
			t.Errorf("%v\n%s", err, sys.Logs())
		}
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("process logs:\n%s", sys.Logs())
		}
	})
	return sys
}

// chaosInfra starts the local processes the launcher starts by default,
// with Mailpit's chaos API enabled.
type chaosInfra struct{}

func (chaosInfra) StartBroker(ctx context.Context) (launcher.Broker, error) {
	return stack.StartNATS(ctx, stack.NATSConfig{SyncAlways: true, Auth: &stack.NATSAuth{}})
}

func (chaosInfra) StartMailCatcher(ctx context.Context) (launcher.MailCatcher, error) {
	return stack.StartMailpit(ctx, stack.MailpitConfig{Chaos: true})
}

// setChaos sets Mailpit's chaos triggers (Sender, Recipient,
// Authentication, each {ErrorCode, Probability}); an absent trigger is off.
func setChaos(t *testing.T, sys *launcher.System, triggers map[string]any) {
	t.Helper()
	u := sys.MailAPIURL() + "/api/v1/chaos"
	status, b, err := doJSON(t.Context(), http.MethodPut, u, triggers, nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("PUT %s %v: %d %s (%v)", u, triggers, status, b, err)
	}
}

// metric returns the value of one series (name{labels} exactly as the
// exposition writes it) on a service's /metrics, or 0 when it is absent.
func metric(t *testing.T, sys *launcher.System, service, series string) float64 {
	t.Helper()
	u := sys.ServiceURL(service) + "/metrics"
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %s: %v", u, sc.Text(), err)
			}
			return n
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", u, err)
	}
	return 0
}
