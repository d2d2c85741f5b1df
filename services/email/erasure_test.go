package main

import (
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/orderbus/orderbus/pkg/erasure/erasuretest"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/pgtest"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

// TestErasure erases one customer's mails records and leaves another's:
// the request is answered once however often it is delivered, a later
// request is answered again with nothing left to erase, and an old order
// event delivered again after the erasure mails nobody.
func TestErasure(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	if code, body := e.Get("/readyz"); code != http.StatusOK || !strings.Contains(body, `"consumers":{"status":"ok"`) {
		t.Errorf("/readyz = %d %s, want 200 with a consumers check", code, body)
	}

	// Ada: three orders, the last one also rejected (four mails); Bob: one.
	_, first := newOrderPlaced(t)
	ada := first.Customer
	var adaPlaced []events.Event
	var last events.OrderPlaced
	for range 3 {
		var ev events.Event
		ev, last = orderPlacedBy(t, ada)
		e.publish(t, ev, ada.ID)
		adaPlaced = append(adaPlaced, ev)
	}
	rejected := newOrderRejected(t, last, "SKU-TEA")
	servicetest.MustPublish(t, e.js, &nats.Msg{Subject: events.OrderRejectedSubject(ada.ID), Header: rejected.Header(), Data: rejected.Data})
	bobPlaced, bobOrder := newOrderPlaced(t)
	bob := bobOrder.Customer
	e.publish(t, bobPlaced, bob.ID)
	e.settled(t, e.lastSeq(t))
	if n := e.allMails(t); n != 5 {
		t.Fatalf("%d mails in Mailpit before the erasure, want 5", n)
	}
	if n := e.mailsOf(t, ada); n != 4 {
		t.Fatalf("%d mails rows of Ada before the erasure, want 4", n)
	}

	// The request, and a copy with the same ce-id past JetStream's
	// duplicate window (another Nats-Msg-Id): one erasure, one answer.
	request, erasureID := erasuretest.Request(t, ada.ID)
	servicetest.MustPublish(t, e.js, request)
	seq := servicetest.MustPublish(t, e.js, erasuretest.Redelivered(request))
	answers := e.erasureAnswers(t, seq, 1)
	if a := answers[0]; a.Service != "email" || a.CustomerID != ada.ID || a.ErasureID != erasureID ||
		!maps.Equal(a.Erased, map[string]int64{"mails": 4, "outbox": 0}) {
		t.Errorf("answer = %+v, want email's for Ada's erasure with 4 mails and 0 outbox events erased", a)
	}
	if n := e.mailsOf(t, ada); n != 0 {
		t.Errorf("%d mails rows of Ada after the erasure, want none", n)
	}
	if n := e.mailsOf(t, bob); n != 1 {
		t.Errorf("%d mails rows of Bob after Ada's erasure, want his 1", n)
	}
	if rows := e.rows(t, bobPlaced.ID); len(rows) != 1 || rows[0].Status != statusSent {
		t.Errorf("Bob's mails rows = %+v, want his sent receipt", rows)
	}

	// An old order event of Ada's, delivered again: its record is gone,
	// but the inbox remembers it, so nothing is sent.
	seq = servicetest.MustPublish(t, e.js, erasuretest.Redelivered(&nats.Msg{
		Subject: events.OrderPlacedSubject(ada.ID), Header: adaPlaced[0].Header(), Data: adaPlaced[0].Data,
	}))
	e.settled(t, seq)
	if n := e.metric(t, seriesDuplicate); n != 1 {
		t.Errorf("duplicate receipts metric = %v, want 1", n)
	}
	if n := e.allMails(t); n != 5 {
		t.Errorf("%d mails in Mailpit after the redelivery, want still 5", n)
	}
	if n := e.mailsOf(t, ada); n != 0 {
		t.Errorf("%d mails rows of Ada after the redelivery, want none", n)
	}

	// A later request for the same customer is answered again.
	later, laterID := erasuretest.Request(t, ada.ID)
	answers = e.erasureAnswers(t, servicetest.MustPublish(t, e.js, later), 2)
	if a := answers[1]; a.ErasureID != laterID || !maps.Equal(a.Erased, map[string]int64{"mails": 0, "outbox": 0}) {
		t.Errorf("second answer = %+v, want one for the later erasure with nothing erased", a)
	}
	if n := pgtest.Count(t, e.db, "outbox", ""); n != 0 {
		t.Errorf("%d events left in the outbox, want none", n)
	}
}

// orderPlacedBy returns an order placed event for a new order of c.
func orderPlacedBy(t *testing.T, c events.Customer) (events.Event, events.OrderPlaced) {
	t.Helper()
	_, p := newOrderPlaced(t)
	p.Customer = c
	ev, err := events.New("/orderbus/order", events.TypeOrderPlaced, p.OrderID, p)
	if err != nil {
		t.Fatal(err)
	}
	return ev, p
}

// erasureAnswers waits until the erasure consumer has settled every GDPR
// message up to seq and the outbox is empty, and returns the service's
// answers, oldest first, failing unless there are n.
func (e *testEnv) erasureAnswers(t *testing.T, seq uint64, n int) []events.ErasureCompleted {
	t.Helper()
	return erasuretest.Answers(t, e.js, serviceName, seq, n, erasuretest.OutboxEmpty(t, e.db))
}

// mailsOf counts the mails rows that name c, by customer id or address.
func (e *testEnv) mailsOf(t *testing.T, c events.Customer) int {
	t.Helper()
	return pgtest.Count(t, e.db, "mails", "customer_id = $1 OR recipient = $2", c.ID, c.Email)
}

// TestErasureTombstone: after Ada's erasure, a receipt and an apology for
// an order of hers placed before its cut-off are neither sent nor
// recorded (suppressed); a receipt for one placed after it is a new
// order's and sent. The verification finds nothing left and keeps the
// new order's mail.
func TestErasureTombstone(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	_, p := newOrderPlaced(t)
	ada := p.Customer
	cutoff := time.Now().UTC()
	request, erasureID := erasuretest.RequestAt(t, ada.ID, cutoff)
	e.erasureAnswers(t, servicetest.MustPublish(t, e.js, request), 1)

	placed := func(at time.Time) (events.Event, events.OrderPlaced) {
		_, p := orderPlacedBy(t, ada)
		p.PlacedAt = at
		ev, err := events.New("/orderbus/order", events.TypeOrderPlaced, p.OrderID, p)
		if err != nil {
			t.Fatal(err)
		}
		return ev, p
	}
	oldEv, old := placed(cutoff.Add(-time.Minute))
	e.publish(t, oldEv, ada.ID)
	apology := newOrderRejected(t, old, "SKU-TEA") // no placed_at: counts as before the cut-off
	servicetest.MustPublish(t, e.js, &nats.Msg{Subject: events.OrderRejectedSubject(ada.ID), Header: apology.Header(), Data: apology.Data})
	newEv, _ := placed(cutoff.Add(time.Minute))
	e.publish(t, newEv, ada.ID)
	e.settled(t, e.lastSeq(t))

	if n := e.allMails(t); n != 1 {
		t.Errorf("%d mails in Mailpit, want the new order's receipt only", n)
	}
	if rows := e.rows(t, oldEv.ID); len(rows) != 0 {
		t.Errorf("the erased order's receipt was recorded: %+v", rows)
	}
	if rows := e.rows(t, newEv.ID); len(rows) != 1 || rows[0].Status != statusSent {
		t.Errorf("the new order's mail rows = %+v, want one sent", rows)
	}
	for series, want := range map[string]float64{
		`email_mails_total{kind="receipt",outcome="suppressed"}`: 1,
		`email_mails_total{kind="apology",outcome="suppressed"}`: 1,
		`orderbus_erasure_suppressed_total{consumer="email"}`:    2,
	} {
		if got := e.metric(t, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}

	bound := e.lastSeq(t)
	servicetest.MustPublish(t, e.js, erasuretest.Verify(t, erasureID, ada.ID, cutoff,
		map[string]uint64{events.StreamOrders: bound}))
	v := erasuretest.Verifications(t, e.js, serviceName, 1)[0]
	if v.Suppressed != 2 || !maps.Equal(v.Remaining, map[string]int64{"mails": 0, "outbox": 0}) || v.Consumers[durableEmail] < bound {
		t.Errorf("verification = %+v, want nothing remaining, 2 suppressed, email settled past %d", v, bound)
	}
	if rows := e.rows(t, newEv.ID); len(rows) != 1 {
		t.Errorf("the verification erased the new order's mail")
	}
}
