package main

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

func TestOrderPlacedReservesOncePerOrder(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	tests := []struct {
		name string
		// second returns the second message for the order placed event ev
		// (with payload p): the same event again, or another event for
		// the same order. skuB is a second SKU in stock.
		second func(t *testing.T, ev events.Event, p events.OrderPlaced, skuB string) *nats.Msg
		// settleFirst publishes the second message only after the first
		// is handled; otherwise both are published at once.
		settleFirst bool
		wantInbox   int // inbox rows for the two messages' event ids
	}{
		{name: "same event delivered twice at once", second: sameEventAgain, wantInbox: 1},
		{name: "same event delivered again later", second: sameEventAgain, settleFirst: true, wantInbox: 1},
		{name: "two events for one order at once", second: otherEventSameItems, wantInbox: 2},
		{name: "two events for one order, later, other items", second: otherEventOtherItems, settleFirst: true, wantInbox: 2},
	}
	duplicates := 0
	var mu sync.Mutex
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			skuA, skuB := newSKU("DA"), newSKU("DB")
			e.setStock(t, skuA, 5)
			e.setStock(t, skuB, 5)
			ev, p := newOrderPlaced(t, events.Item{SKU: skuA, Quantity: 2})
			second := tt.second(t, ev, p, skuB)

			first := e.mustPublish(t, ev, p.Customer.ID)
			if tt.settleFirst {
				e.settled(t, first)
			}
			seq, err := servicetest.Publish(e.js, second)
			if err != nil {
				t.Fatal(err)
			}
			e.settled(t, seq)

			r := e.reservation(t, p.OrderID)
			if r == nil || r.Status != statusReserved || len(r.Lines) != 1 || r.Lines[skuA] != 2 {
				t.Fatalf("reservation = %+v, want reserved with %s x 2 only", r, skuA)
			}
			if a, b := e.level(t, skuA), e.level(t, skuB); a != 3 || b != 5 {
				t.Errorf("stock = %d and %d, want 3 (lowered once) and 5", a, b)
			}
			checkResult(t, e, ev, p, r, nil)
			var inbox int
			err = e.db.QueryRow(context.Background(), `SELECT count(*) FROM inbox WHERE consumer = $1 AND message_id = ANY($2)`,
				durableInventory, []string{ev.ID, second.Header.Get("ce-id")}).Scan(&inbox)
			if err != nil || inbox != tt.wantInbox {
				t.Errorf("inbox rows = %d (%v), want %d", inbox, err, tt.wantInbox)
			}
			mu.Lock()
			duplicates++
			mu.Unlock()
		})
	}
	t.Cleanup(func() {
		e.assertNoPersonalData(t)
		if got := e.metric(t, `inventory_reservations_total{outcome="duplicate"}`); got != float64(duplicates) {
			t.Errorf("duplicate metric = %v, want %d", got, duplicates)
		}
		if got := e.metric(t, `inventory_reservations_total{outcome="reserved"}`); got != float64(duplicates) {
			t.Errorf("reserved metric = %v, want %d", got, duplicates)
		}
		// Serialized by the order lock, never by a failed transaction.
		if got := e.metric(t, `orderbus_consumer_messages_total{durable="inventory",outcome="retried"}`); got > 0 {
			t.Errorf("%v deliveries retried, want none", got)
		}
	})
}

// sameEventAgain is ev once more under another Nats-Msg-Id, so that
// JetStream stores it again, as a producer's retry outside the duplicate
// window would.
func sameEventAgain(_ *testing.T, ev events.Event, p events.OrderPlaced, _ string) *nats.Msg {
	h := ev.Header()
	h.Set(nats.MsgIdHdr, "copy-"+ev.ID)
	return &nats.Msg{Subject: events.OrderPlacedSubject(p.Customer.ID), Header: h, Data: ev.Data}
}

// otherEventSameItems is a new event (new ce-id) with the same payload.
func otherEventSameItems(t *testing.T, _ events.Event, p events.OrderPlaced, _ string) *nats.Msg {
	t.Helper()
	ev, err := events.New("/orderbus/order", events.TypeOrderPlaced, p.OrderID, p)
	if err != nil {
		t.Fatal(err)
	}
	return &nats.Msg{Subject: events.OrderPlacedSubject(p.Customer.ID), Header: ev.Header(), Data: ev.Data}
}

// otherEventOtherItems is a new event for the same order asking for
// another SKU.
func otherEventOtherItems(t *testing.T, ev events.Event, p events.OrderPlaced, skuB string) *nats.Msg {
	t.Helper()
	p.Items = []events.Item{{SKU: skuB, Quantity: 1}}
	return otherEventSameItems(t, ev, p, skuB)
}

func TestConcurrentOrdersNeverOversell(t *testing.T) {
	t.Parallel()
	const (
		orders = 50
		level  = 10
	)
	e := startEnv(t, map[string]string{"CONSUMER_CONCURRENCY": "8"})
	scarce, plenty := newSKU("SCARCE"), newSKU("PLENTY")
	e.setStock(t, scarce, level)
	e.setStock(t, plenty, 1000)

	type placed struct {
		ev events.Event
		p  events.OrderPlaced
	}
	all := make([]placed, orders)
	for i := range all {
		// Both SKUs on every order, in either order: the stock rows must
		// still be locked in one order, or transactions would deadlock.
		items := []events.Item{{SKU: scarce, Quantity: 1}, {SKU: plenty, Quantity: 1}}
		if i%2 == 1 {
			items[0], items[1] = items[1], items[0]
		}
		all[i].ev, all[i].p = newOrderPlaced(t, items...)
	}
	seqs := make([]uint64, orders)
	errs := make([]error, orders)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, o := range all {
		wg.Go(func() {
			<-start
			seqs[i], errs[i] = e.publish(o.ev, o.p.Customer.ID)
		})
	}
	close(start)
	wg.Wait()
	var last uint64
	for i, err := range errs {
		if err != nil {
			t.Fatalf("publish order %d: %v", i, err)
		}
		last = max(last, seqs[i])
	}
	e.settled(t, last)

	statuses := map[string]int{}
	for _, o := range all {
		r := e.reservation(t, o.p.OrderID)
		if r == nil {
			t.Fatalf("order %s has no reservation", o.p.OrderID)
		}
		statuses[r.Status]++
		if r.Status == statusRejected && (len(r.Missing) != 1 || r.Missing[0] != scarce || len(r.Lines) != 0) {
			t.Errorf("rejected reservation %+v, want %s missing and no lines", r, scarce)
		}
	}
	if statuses[statusReserved] != level || statuses[statusRejected] != orders-level {
		t.Errorf("reservations by status = %v, want %d reserved and %d rejected", statuses, level, orders-level)
	}
	if a, b := e.level(t, scarce), e.level(t, plenty); a != 0 || b != 1000-level {
		t.Errorf("stock = %d and %d, want 0 and %d", a, b, 1000-level)
	}

	results := map[string]int{}
	for subject, n := range e.results(t, "inventory.>") {
		if n != 1 {
			t.Errorf("%d messages on %s, want 1", n, subject)
		}
		results[strings.Split(subject, ".")[1]] += int(n)
	}
	if results["reserved"] != level || results["rejected"] != orders-level {
		t.Errorf("INVENTORY messages by kind = %v, want %d reserved and %d rejected", results, level, orders-level)
	}
	for series, want := range map[string]float64{
		`inventory_reservations_total{outcome="reserved"}`:                        level,
		`inventory_reservations_total{outcome="rejected"}`:                        orders - level,
		`orderbus_consumer_messages_total{durable="inventory",outcome="retried"}`: 0,
	} {
		if got := e.metric(t, series); got != want && !(want == 0 && got == -1) {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if logs := e.Logs(); strings.Contains(logs, "deadlock") {
		t.Errorf("service log mentions a deadlock")
	}
}
