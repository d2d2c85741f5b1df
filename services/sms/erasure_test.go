package main

import (
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/orderbus/orderbus/pkg/erasure/erasuretest"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/pgtest"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

// TestErasure erases one customer's messages records and leaves another's:
// the request is answered once however often it is delivered, a later
// request is answered again with nothing left to erase, and an old order
// event delivered again after the erasure texts nobody.
func TestErasure(t *testing.T) {
	t.Parallel()
	e, hook := startWebhookEnv(t)
	if code, body := e.Get("/readyz"); code != http.StatusOK || !strings.Contains(body, `"consumers":{"status":"ok"`) {
		t.Errorf("/readyz = %d %s, want 200 with a consumers check", code, body)
	}

	// Ada: three orders; Bob: one.
	_, first := newOrderPlaced(t)
	ada := first.Customer
	var adaPlaced []events.Event
	for range 3 {
		ev := orderPlacedBy(t, ada)
		e.publish(t, ev, ada.ID)
		adaPlaced = append(adaPlaced, ev)
	}
	bobPlaced, bobOrder := newOrderPlaced(t)
	bob := bobOrder.Customer
	e.publish(t, bobPlaced, bob.ID)
	e.settled(t, e.lastSeq(t))
	if n := len(hook.requests()); n != 4 {
		t.Fatalf("the webhook was called %d times before the erasure, want 4", n)
	}
	if n := e.messagesOf(t, ada); n != 3 {
		t.Fatalf("%d messages rows of Ada before the erasure, want 3", n)
	}

	// The request, and a copy with the same ce-id past JetStream's
	// duplicate window (another Nats-Msg-Id): one erasure, one answer.
	request, erasureID := erasuretest.Request(t, ada.ID)
	servicetest.MustPublish(t, e.js, request)
	seq := servicetest.MustPublish(t, e.js, erasuretest.Redelivered(request))
	answers := e.erasureAnswers(t, seq, 1)
	if a := answers[0]; a.Service != "sms" || a.CustomerID != ada.ID || a.ErasureID != erasureID ||
		!maps.Equal(a.Erased, map[string]int64{"messages": 3, "outbox": 0}) {
		t.Errorf("answer = %+v, want sms's for Ada's erasure with 3 messages and 0 outbox events erased", a)
	}
	if n := e.messagesOf(t, ada); n != 0 {
		t.Errorf("%d messages rows of Ada after the erasure, want none", n)
	}
	if code, body := e.GetAs("/v1/messages?to="+url.QueryEscape(ada.Phone), servicetest.Operator(t)); code != http.StatusOK || !strings.Contains(body, `"messages":[]`) {
		t.Errorf("GET /v1/messages for Ada's number = %d %s, want an empty list", code, body)
	}
	if n := e.messagesOf(t, bob); n != 1 {
		t.Errorf("%d messages rows of Bob after Ada's erasure, want his 1", n)
	}
	if rows := e.rows(t, bobPlaced.ID); len(rows) != 1 || rows[0].Status != statusSent || rows[0].To != bob.Phone {
		t.Errorf("Bob's messages rows = %+v, want his sent SMS", rows)
	}

	// An old order event of Ada's, delivered again: its record is gone,
	// but the inbox remembers it, so nothing is sent.
	seq = servicetest.MustPublish(t, e.js, erasuretest.Redelivered(&nats.Msg{
		Subject: events.OrderPlacedSubject(ada.ID), Header: adaPlaced[0].Header(), Data: adaPlaced[0].Data,
	}))
	e.settled(t, seq)
	if n := e.metric(t, series("webhook", outcomeDuplicate)); n != 1 {
		t.Errorf("duplicate metric = %v, want 1", n)
	}
	if n := len(hook.requests()); n != 4 {
		t.Errorf("the webhook was called %d times after the redelivery, want still 4", n)
	}
	if n := e.messagesOf(t, ada); n != 0 {
		t.Errorf("%d messages rows of Ada after the redelivery, want none", n)
	}

	// A later request for the same customer is answered again.
	later, laterID := erasuretest.Request(t, ada.ID)
	answers = e.erasureAnswers(t, servicetest.MustPublish(t, e.js, later), 2)
	if a := answers[1]; a.ErasureID != laterID || !maps.Equal(a.Erased, map[string]int64{"messages": 0, "outbox": 0}) {
		t.Errorf("second answer = %+v, want one for the later erasure with nothing erased", a)
	}
	if n := pgtest.Count(t, e.db, "outbox", ""); n != 0 {
		t.Errorf("%d events left in the outbox, want none", n)
	}
}

// orderPlacedBy returns an order placed event (3 items) for a new order of c.
func orderPlacedBy(t *testing.T, c events.Customer) events.Event {
	t.Helper()
	_, p := newOrderPlaced(t)
	p.Customer = c
	ev, err := events.New("/orderbus/order", events.TypeOrderPlaced, p.OrderID, p)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// erasureAnswers waits until the erasure consumer has settled every GDPR
// message up to seq and the outbox is empty, and returns the service's
// answers, oldest first, failing unless there are n.
func (e *testEnv) erasureAnswers(t *testing.T, seq uint64, n int) []events.ErasureCompleted {
	t.Helper()
	return erasuretest.Answers(t, e.js, serviceName, seq, n, erasuretest.OutboxEmpty(t, e.db))
}

// messagesOf counts the messages rows that name c, by customer id or number.
func (e *testEnv) messagesOf(t *testing.T, c events.Customer) int {
	t.Helper()
	return pgtest.Count(t, e.db, "messages", "customer_id = $1 OR to_number = $2", c.ID, c.Phone)
}

// TestErasureTombstone: after Ada's erasure, an order of hers placed
// before its cut-off (still in flight) is acknowledged without an SMS or
// a record, and counted as suppressed; one placed after it is a new order
// and texted. The verification then finds nothing left, the consumer
// settled past the purge bound, and reports the suppression.
func TestErasureTombstone(t *testing.T) {
	t.Parallel()
	e, hook := startWebhookEnv(t)
	_, p := newOrderPlaced(t)
	ada := p.Customer
	cutoff := time.Now().UTC()
	request, erasureID := erasuretest.RequestAt(t, ada.ID, cutoff)
	e.erasureAnswers(t, servicetest.MustPublish(t, e.js, request), 1)

	old := orderPlacedBy(t, ada)
	old = withPlacedAt(t, old, cutoff.Add(-time.Minute))
	e.publish(t, old, ada.ID)
	newer := orderPlacedBy(t, ada)
	newer = withPlacedAt(t, newer, cutoff.Add(time.Minute))
	e.publish(t, newer, ada.ID)
	e.settled(t, e.lastSeq(t))

	if n := len(hook.requests()); n != 1 {
		t.Errorf("the webhook was called %d times, want once (the new order)", n)
	}
	if rows := e.rows(t, old.ID); len(rows) != 0 {
		t.Errorf("the old order's SMS was recorded: %+v", rows)
	}
	if rows := e.rows(t, newer.ID); len(rows) != 1 || rows[0].Status != statusSent {
		t.Errorf("the new order's SMS rows = %+v, want one sent", rows)
	}
	if n := e.metric(t, series("webhook", outcomeSuppressed)); n != 1 {
		t.Errorf("suppressed metric = %v, want 1", n)
	}
	if n := e.metric(t, `orderbus_erasure_suppressed_total{consumer="sms"}`); n != 1 {
		t.Errorf("orderbus_erasure_suppressed_total = %v, want 1", n)
	}

	bound := e.lastSeq(t)
	servicetest.MustPublish(t, e.js, erasuretest.Verify(t, erasureID, ada.ID, cutoff,
		map[string]uint64{events.StreamOrders: bound}))
	v := erasuretest.Verifications(t, e.js, serviceName, 1)[0]
	if v.ErasureID != erasureID || v.Service != serviceName || v.Suppressed != 1 ||
		!maps.Equal(v.Remaining, map[string]int64{"messages": 0, "outbox": 0}) || v.Consumers[durableSMS] < bound {
		t.Errorf("verification = %+v, want nothing remaining, 1 suppressed, sms settled past %d", v, bound)
	}
	if rows := e.rows(t, newer.ID); len(rows) != 1 {
		t.Errorf("the verification erased the new order's SMS")
	}
}

// withPlacedAt returns ev (an order placed event) with its placed_at at.
func withPlacedAt(t *testing.T, ev events.Event, at time.Time) events.Event {
	t.Helper()
	var p events.OrderPlaced
	if err := ev.Decode(&p); err != nil {
		t.Fatal(err)
	}
	p.PlacedAt = at
	out, err := events.New(ev.Source, ev.Type, ev.Subject, p)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
