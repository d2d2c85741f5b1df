package main

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

func TestOrderPlacedReservesAllOrNothing(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	type line struct {
		sku      string // a key of stock, else a SKU used as is
		quantity int
	}
	tests := []struct {
		name        string
		stock       map[string]int // key → level; each key becomes a fresh SKU
		items       []line
		wantStatus  string
		wantMissing []string       // keys
		wantStock   map[string]int // key (or SKU) → level after
	}{
		{name: "in stock", stock: map[string]int{"A": 10, "B": 3},
			items: []line{{"A", 4}, {"B", 3}}, wantStatus: statusReserved,
			wantStock: map[string]int{"A": 6, "B": 0}},
		{name: "over stock", stock: map[string]int{"A": 10, "B": 3},
			items: []line{{"A", 4}, {"B", 4}}, wantStatus: statusRejected, wantMissing: []string{"B"},
			wantStock: map[string]int{"A": 10, "B": 3}},
		{name: "out of stock", stock: map[string]int{"A": 0},
			items: []line{{"A", 1}}, wantStatus: statusRejected, wantMissing: []string{"A"},
			wantStock: map[string]int{"A": 0}},
		{name: "unknown sku", stock: map[string]int{"A": 10},
			items: []line{{"A", 1}, {"NO-SUCH-SKU", 1}}, wantStatus: statusRejected, wantMissing: []string{"NO-SUCH-SKU"},
			wantStock: map[string]int{"A": 10}},
		{name: "several missing, sorted", stock: map[string]int{"A": 1, "B": 1, "C": 5},
			items: []line{{"ZZ-UNKNOWN", 1}, {"C", 1}, {"B", 2}, {"A", 2}}, wantStatus: statusRejected,
			wantMissing: []string{"A", "B", "ZZ-UNKNOWN"}, wantStock: map[string]int{"A": 1, "B": 1, "C": 5}},
		{name: "same sku on two lines", stock: map[string]int{"A": 5},
			items: []line{{"A", 2}, {"A", 3}}, wantStatus: statusReserved, wantStock: map[string]int{"A": 0}},
		{name: "demo catalog", items: []line{{"ESPRESSO-1KG", 2}, {"MUG-WHITE", 1}}, wantStatus: statusReserved,
			wantStock: map[string]int{"ESPRESSO-1KG": 98, "MUG-WHITE": 199}},
	}
	var ran sync.Map // status → *atomic.Int64: what the metric must count
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, _ := ran.LoadOrStore(tt.wantStatus, new(atomic.Int64))
			n.(*atomic.Int64).Add(1)
			skus := map[string]string{} // key → SKU
			for key, n := range tt.stock {
				skus[key] = newSKU("T" + key)
				e.setStock(t, skus[key], n)
			}
			skuOf := func(key string) string {
				if sku, ok := skus[key]; ok {
					return sku
				}
				return key
			}
			var items []events.Item
			for _, l := range tt.items {
				items = append(items, events.Item{SKU: skuOf(l.sku), Quantity: l.quantity})
			}
			wantMissing := []string{}
			for _, key := range tt.wantMissing {
				wantMissing = append(wantMissing, skuOf(key))
			}
			slices.Sort(wantMissing)

			ev, p := newOrderPlaced(t, items...)
			seq := e.mustPublish(t, ev, p.Customer.ID)
			servicetest.WaitFor(t, 15*time.Second, "the reservation", func() (bool, string) {
				return e.reservation(t, p.OrderID) != nil, "no reservation"
			})
			e.settled(t, seq)

			r := e.reservation(t, p.OrderID)
			if r.Status != tt.wantStatus || !slices.Equal(r.Missing, wantMissing) || r.CustomerID != p.Customer.ID {
				t.Errorf("reservation = %+v, want status %s, missing %q, customer %s", r, tt.wantStatus, wantMissing, p.Customer.ID)
			}
			wantLines := map[string]int{}
			if tt.wantStatus == statusReserved {
				for _, it := range items {
					wantLines[it.SKU] += it.Quantity
				}
			}
			if !maps.Equal(r.Lines, wantLines) {
				t.Errorf("reservation lines = %v, want %v", r.Lines, wantLines)
			}
			for key, want := range tt.wantStock {
				if got := e.level(t, skuOf(key)); got != want {
					t.Errorf("stock of %s = %d, want %d", key, got, want)
				}
			}
			checkResult(t, e, ev, p, r, wantMissing)
		})
	}
	t.Cleanup(func() {
		e.assertNoPersonalData(t)
		want := map[string]float64{outcomeReserved: 0, outcomeRejected: 0, outcomeDuplicate: 0}
		ran.Range(func(status, n any) bool {
			want[status.(string)] = float64(n.(*atomic.Int64).Load()) // outcomes are named as statuses
			return true
		})
		for outcome, want := range want {
			if got := e.metric(t, `inventory_reservations_total{outcome="`+outcome+`"}`); got != want {
				t.Errorf("inventory_reservations_total{outcome=%q} = %v, want %v", outcome, got, want)
			}
		}
	})
}

// checkResult checks that exactly one result event for the order placed
// event ev is in INVENTORY, on the subject of r's status, and that it
// announces r.
func checkResult(t *testing.T, e *testEnv, ev events.Event, p events.OrderPlaced, r *storedReservation, wantMissing []string) {
	t.Helper()
	subject, otherSubject := events.InventoryReservedSubject(p.Customer.ID), events.InventoryRejectedSubject(p.Customer.ID)
	wantType := events.TypeInventoryReserved
	if r.Status == statusRejected {
		subject, otherSubject = otherSubject, subject
		wantType = events.TypeInventoryRejected
	}
	counts := e.results(t, "inventory.*."+p.Customer.ID)
	if counts[subject] != 1 || counts[otherSubject] != 0 {
		t.Fatalf("INVENTORY messages by subject = %v, want exactly one on %s", counts, subject)
	}
	msg := e.lastResult(t, subject)
	h := msg.Header
	for name, want := range map[string]string{
		"ce-specversion": "1.0", "ce-source": "/orderbus/inventory", "ce-type": wantType,
		"ce-subject": p.OrderID, "Content-Type": "application/json",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
	if id := h.Get("ce-id"); id == "" || id == ev.ID || h.Get("Nats-Msg-Id") != id {
		t.Errorf("ce-id %q, Nats-Msg-Id %q: want equal, set, and not the order event's id", id, h.Get("Nats-Msg-Id"))
	}
	result, err := events.Parse(h, msg.Data)
	if err != nil {
		t.Fatalf("parse result: %v", err)
	}
	if r.Status == statusReserved {
		var got events.InventoryReserved
		if err := result.Decode(&got); err != nil {
			t.Fatal(err)
		}
		want := events.InventoryReserved{OrderID: p.OrderID, CustomerID: p.Customer.ID, ReservedAt: r.CreatedAt.UTC()}
		if !got.ReservedAt.Equal(want.ReservedAt) || got.OrderID != want.OrderID || got.CustomerID != want.CustomerID {
			t.Errorf("payload = %+v, want %+v", got, want)
		}
		return
	}
	var got events.InventoryRejected
	if err := result.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.OrderID != p.OrderID || got.CustomerID != p.Customer.ID || !slices.Equal(got.MissingSKUs, wantMissing) ||
		!got.RejectedAt.Equal(r.CreatedAt) {
		t.Errorf("payload = %+v, want order %s, customer %s, missing %q, rejected at %s",
			got, p.OrderID, p.Customer.ID, wantMissing, r.CreatedAt)
	}
}
