package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/e2e/launcher"
	"github.com/orderbus/orderbus/pkg/events"
)

// tombstoneTables hold the ids an erasure keeps on purpose in every
// participant (pkg/erasure): the customer id and event ids, nothing else.
var tombstoneTables = []string{"erasure_tombstones", "erasure_suppressed"}

// erasableOrder is sampleOrder with a name of its own, so that a scan for
// it finds this customer only.
func erasableOrder() orderRequest {
	o := sampleOrder()
	o.Customer.Name = "Grace Hopper " + o.Customer.ID[:8]
	return o
}

// outputBuffer collects every line the system's processes print.
type outputBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *outputBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *outputBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newSystemOutput is newSystem with every process's output copied to out.
func newSystemOutput(t *testing.T, env map[string]map[string]string, out *outputBuffer) *launcher.System {
	t.Helper()
	if skipAll != "" {
		t.Skip(skipAll) // only E2E_INFRA=docker with no Docker engine sets it
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	sys, err := launcher.Start(ctx, launcher.Config{Postgres: cluster, Infrastructure: infra, Binaries: binaries,
		Env: env, Output: out})
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

// waitVerified waits until the erasure is completed and checks that every
// participant verified it with nothing remaining.
func waitVerified(t *testing.T, sys *launcher.System, id string) erasureView {
	t.Helper()
	e := waitErasure(t, sys, id, "erasure completed", completed)
	if e.PurgedAt == nil {
		t.Errorf("completed erasure without a purge")
	}
	for _, p := range e.Participants {
		if p.State != "verified" || p.Verification == nil {
			t.Errorf("participant %s: state %s, verification %v; want verified", p.Service, p.State, p.Verification)
			continue
		}
		for kind, n := range p.Verification.Remaining {
			if n != 0 {
				t.Errorf("participant %s: %d %s remaining", p.Service, n, kind)
			}
		}
	}
	return e
}

// checkNothingLeft scans, after the erasure of c completed, every table of
// every service database, every message of every stream (the DLQ
// included) and every line the services logged at info and above, for c's
// name, e-mail address and phone number; and the participants' databases
// for c's id outside the tombstone tables.
func checkNothingLeft(t *testing.T, sys *launcher.System, out *outputBuffer, c customer) {
	t.Helper()
	personal := []string{c.Name, c.Email, c.Phone}
	for _, svc := range sys.Services() {
		if found := findInDatabase(t, sys.DatabaseURL(svc), personal); len(found) > 0 {
			t.Errorf("%s's database holds the erased customer's personal data: %v", svc, found)
		}
		if svc == "gdpr" {
			continue // the erasure's own record names the customer id it erased
		}
		if found := findInDatabase(t, sys.DatabaseURL(svc), []string{c.ID}, tombstoneTables...); len(found) > 0 {
			t.Errorf("%s's database holds the erased customer's id outside its tombstone: %v", svc, found)
		}
	}
	js := jetStream(t, sys)
	for _, stream := range []string{events.StreamOrders, events.StreamInventory, events.StreamGDPR, events.StreamDLQ} {
		look := personal
		if stream != events.StreamGDPR {
			look = append(slices.Clone(personal), c.ID) // only the erasure messages may name the id
		}
		if found := findInStream(t, js, stream, look); len(found) > 0 {
			t.Errorf("stream %s still holds the erased customer: %v", stream, found)
		}
	}
	for line := range strings.Lines(out.String()) {
		name, _, _ := strings.Cut(line, " ")
		if !slices.Contains(sys.Services(), name) || strings.Contains(line, "level=DEBUG") {
			continue
		}
		if strings.Contains(line, "found records of the customer again") {
			// The verification erased what an effect wrote after the
			// erasure: the tombstone did not hold.
			t.Errorf("a verification found personal data written after the erasure: %s", line)
		}
		for _, v := range personal {
			if strings.Contains(strings.ToLower(line), strings.ToLower(v)) {
				t.Errorf("a %s log line names the erased customer: %s", name, line)
			}
		}
	}
}

// findInStream reads every message of stream and returns the sequences
// whose subject, headers or body contain one of values.
func findInStream(t *testing.T, js jetstream.JetStream, stream string, values []string) []uint64 {
	t.Helper()
	ctx := t.Context()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var found []uint64
	for seq := info.State.FirstSeq; seq > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("read %s #%d: %v", stream, seq, err)
		}
		text := strings.ToLower(fmt.Sprintf("%s %v %s", m.Subject, m.Header, m.Data))
		for _, v := range values {
			if strings.Contains(text, strings.ToLower(v)) {
				found = append(found, seq)
				break
			}
		}
	}
	return found
}

// slowWebhook is an SMS provider (the sms service's webhook provider) that
// answers each SMS after delay; HEAD (the probe) answers at once.
func slowWebhook(t *testing.T, delay time.Duration) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var sent atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			return
		}
		sent.Add(1)
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"wh-%d"}`, sent.Load())
	}))
	t.Cleanup(srv.Close)
	return srv, &sent
}

// TestErasureOfAnOrderInFlight places an order and erases its customer at
// once, while the SMS provider takes 3 seconds to answer: once the erasure
// is completed no SMS, mail or reservation row names the customer, the
// purge left nothing of them in ORDERS, INVENTORY or the DLQ, and a scan
// of every database, stream and log finds nothing personal.
func TestErasureOfAnOrderInFlight(t *testing.T) {
	t.Parallel()
	hook, sent := slowWebhook(t, 3*time.Second)
	out := &outputBuffer{}
	sys := newSystemOutput(t, map[string]map[string]string{
		"sms": {"SMS_PROVIDER": "webhook", "SMS_WEBHOOK_URL": hook.URL, "SMS_WEBHOOK_TIMEOUT": "10s",
			"CONSUMER_BACKOFF": "200ms,500ms,1s"},
	}, out)
	o := erasableOrder()
	placeOrder(t, sys, o)
	id := requestErasure(t, sys, o.Customer.ID)
	e := waitVerified(t, sys, id)
	t.Logf("the provider was asked for %d SMS", sent.Load())
	// The SMS was being sent when sms erased the customer: its record
	// was suppressed by the tombstone (or, had sms not fetched it yet, the
	// SMS was not sent at all).
	for _, p := range e.Participants {
		if p.Service == "sms" && (p.Verification == nil || p.Verification.Suppressed != 1) {
			t.Errorf("sms verification %+v, want 1 suppressed event", p.Verification)
		}
	}

	for svc, table := range map[string]string{"sms": "messages", "email": "mails", "inventory": "reservations", "order": "orders"} {
		if found := findInDatabase(t, sys.DatabaseURL(svc), []string{o.Customer.ID}, tombstoneTables...); found[table] > 0 {
			t.Errorf("%s: %d %s rows name the erased customer", svc, found[table], table)
		}
	}
	js := jetStream(t, sys)
	for _, stream := range []string{events.StreamOrders, events.StreamInventory, events.StreamDLQ} {
		if found := findInStream(t, js, stream, []string{o.Customer.ID}); len(found) > 0 {
			t.Errorf("the purge left messages of the customer in %s: %v", stream, found)
		}
	}
	checkNothingLeft(t, sys, out, o.Customer)
}

// TestErasureKeepsAnOrderPlacedDuringIt erases a customer while sms is
// down; once the others have answered, inventory stops and the same
// customer places a new order; sms comes back (the streams are purged),
// then inventory. The erasure completes,
// and the new order is processed normally: confirmed, one receipt, one
// SMS; the erased order's SMS row is gone.
func TestErasureKeepsAnOrderPlacedDuringIt(t *testing.T) {
	t.Parallel()
	sys := newSystem(t, map[string]map[string]string{"sms": {"CONSUMER_BACKOFF": "200ms,500ms,1s"}})
	o := erasableOrder()
	first := placeOrder(t, sys, o)
	waitTexts(t, sys, map[string]orderRequest{first: o}, time.Minute)
	waitSettled(t, sys, time.Minute)

	if err := sys.StopService(t.Context(), "sms"); err != nil {
		t.Fatal(err)
	}
	id := requestErasure(t, sys, o.Customer.ID)
	waitErasure(t, sys, id, "every participant but sms answered", func(e erasureView) bool {
		for _, p := range e.Participants {
			if (p.Service == "sms") != (p.State == "pending") {
				return false
			}
		}
		return true
	})
	if err := sys.StopService(t.Context(), "inventory"); err != nil {
		t.Fatal(err)
	}
	later := placeOrder(t, sys, o)
	// sms first: its answer lets gdpr purge while inventory has not yet
	// consumed the new order's orders.placed, which the purge must keep.
	if err := sys.StartService(t.Context(), "sms"); err != nil {
		t.Fatal(err)
	}
	e := waitErasure(t, sys, id, "the purge", func(e erasureView) bool { return e.PurgedAt != nil })
	if e.Status != "pending" || !slices.Contains(e.Waiting, "inventory") {
		t.Errorf("purged with inventory down: status %s, waiting for %v; want pending, waiting for inventory", e.Status, e.Waiting)
	}
	if err := sys.StartService(t.Context(), "inventory"); err != nil {
		t.Fatal(err)
	}
	waitVerified(t, sys, id)

	eventually(t, time.Minute, "the new order confirmed", func(ctx context.Context) (bool, string) {
		v, err := fetchOrder(ctx, sys, later)
		return err == nil && v.Status == "confirmed", fmt.Sprintf("%+v %v", v.Status, err)
	})
	if code, _, _ := doJSONAuth(t.Context(), http.MethodGet, sys.OrderURL()+"/v1/orders/"+first, sys.OperatorToken(), nil, nil); code != http.StatusNotFound {
		t.Errorf("the erased order: GET %d, want 404", code)
	}
	mc := mailbox(t, sys)
	eventually(t, time.Minute, "the new order's receipt", func(context.Context) (bool, string) {
		_, ok := mailsOfKind(mails(t, mc), kindReceipt)[later]
		return ok, describe(mails(t, mc))
	})
	waitSettled(t, sys, time.Minute)
	receipts := 0
	for _, m := range mails(t, mc) {
		if mailKind(m) == kindReceipt && m.Header("X-Order-Id") == later {
			receipts++
		}
	}
	if receipts != 1 {
		t.Errorf("%d receipts for the new order, want 1", receipts)
	}
	texts, err := textsTo(t.Context(), sys, o.Customer.Phone)
	if err != nil || len(texts) != 1 || texts[0].OrderID != later {
		t.Errorf("SMS to the customer after the erasure: %+v (%v); want the new order's one", texts, err)
	}
	if found := findInDatabase(t, sys.DatabaseURL("email"), []string{first}); len(found) > 0 {
		t.Errorf("the email database still holds the erased order: %v", found)
	}
}

// TestErasureWaitsForTwoDownServices requests an erasure while sms and
// inventory are down: it stays pending, naming both, and completes once
// both are back, leaving nothing personal anywhere.
func TestErasureWaitsForTwoDownServices(t *testing.T) {
	t.Parallel()
	out := &outputBuffer{}
	sys := newSystemOutput(t, nil, out)
	o := erasableOrder()
	orders := map[string]orderRequest{placeOrder(t, sys, o): o}
	waitTexts(t, sys, orders, time.Minute)
	waitSettled(t, sys, time.Minute)

	down := []string{"inventory", "sms"}
	for _, svc := range down {
		if err := sys.StopService(t.Context(), svc); err != nil {
			t.Fatal(err)
		}
	}
	id := requestErasure(t, sys, o.Customer.ID)
	e := waitErasure(t, sys, id, "order and email answered", func(e erasureView) bool {
		answered := 0
		for _, p := range e.Participants {
			if p.State == "answered" {
				answered++
			}
		}
		return answered == 2
	})
	if want := []string{"sms", "inventory"}; e.Status != "pending" || !slices.Equal(e.Waiting, want) {
		t.Fatalf("with inventory and sms down: status %s, waiting for %v; want pending, waiting for %v", e.Status, e.Waiting, want)
	}
	for _, svc := range down {
		if err := sys.StartService(t.Context(), svc); err != nil {
			t.Fatal(err)
		}
	}
	waitVerified(t, sys, id)
	checkNothingLeft(t, sys, out, o.Customer)
}

// TestEraseScriptPrintsAReceipt runs scripts/erase.sh against a system:
// it waits for the erasure to complete and prints the receipt, the purge
// and every participant's counts and verification.
func TestEraseScriptPrintsAReceipt(t *testing.T) {
	t.Parallel()
	sys := newSystem(t, nil)
	o := erasableOrder()
	orders := map[string]orderRequest{placeOrder(t, sys, o): o}
	waitTexts(t, sys, orders, time.Minute)
	waitSettled(t, sys, time.Minute)

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join("..", "scripts", "erase.sh"), o.Customer.ID)
	cmd.Env = append(os.Environ(), "GDPR_URL="+sys.ServiceURL("gdpr"), "ORDERBUS_TOKEN="+sys.OperatorToken(), "WAIT_SECONDS=60")
	out, err := cmd.CombinedOutput()
	t.Logf("scripts/erase.sh:\n%s", out)
	if err != nil {
		t.Fatalf("scripts/erase.sh: %v", err)
	}
	text := string(out)
	for _, want := range []string{"receipt of erasure", "purged at", "completed at",
		"order     verified", "sms       answered", "orders=1", "messages=1", "mails=1", "reservations=1",
		"remaining messages=0 outbox=0"} {
		if !strings.Contains(text, want) {
			t.Errorf("the receipt lacks %q", want)
		}
	}
}
