package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

// placeOrder places an order for customerID with the given SKUs and
// returns its id.
func (s *testEnv) placeOrder(t *testing.T, customerID string, skus ...string) string {
	t.Helper()
	resp := s.postOrder(t, orderBody(t, customerID, skus...), "")
	if resp.status != http.StatusAccepted {
		t.Fatalf("place order: %d %s", resp.status, resp.body)
	}
	var a createAnswer
	decodeJSON(t, resp, &a)
	return a.ID
}

// getOrder returns GET /v1/orders/{id}, which must answer 200.
func (s *testEnv) getOrder(t *testing.T, id string) orderAnswer {
	t.Helper()
	resp := s.do(t, http.MethodGet, "/v1/orders/"+id, nil, nil)
	if resp.status != http.StatusOK {
		t.Fatalf("GET order %s: %d %s", id, resp.status, resp.body)
	}
	var o orderAnswer
	decodeJSON(t, resp, &o)
	return o
}

// inventoryReserved returns an inventory reserved event for the order.
func inventoryReserved(t *testing.T, orderID, customerID string) (string, events.Event) {
	t.Helper()
	ev, err := events.New("/orderbus/inventory", events.TypeInventoryReserved, orderID, events.InventoryReserved{
		OrderID: orderID, CustomerID: customerID, ReservedAt: time.Now().UTC(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return events.InventoryReservedSubject(customerID), ev
}

// inventoryRejected returns an inventory rejected event for the order.
func inventoryRejected(t *testing.T, orderID, customerID string, missing ...string) (string, events.Event) {
	t.Helper()
	ev, err := events.New("/orderbus/inventory", events.TypeInventoryRejected, orderID, events.InventoryRejected{
		OrderID: orderID, CustomerID: customerID, MissingSKUs: missing, RejectedAt: time.Now().UTC(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return events.InventoryRejectedSubject(customerID), ev
}

// settled waits until the order-inventory consumer has acknowledged (or
// terminated) every INVENTORY message up to seq and holds none, and the
// outbox is empty.
func (s *testEnv) settled(t *testing.T, seq uint64) {
	t.Helper()
	servicetest.WaitFor(t, 15*time.Second, "the order-inventory consumer to settle and the outbox to empty", func() (bool, string) {
		ok, seen := servicetest.Settled(s.js, events.StreamInventory, durableOrderInventory, seq)
		pending := s.count(t, "outbox")
		return ok && pending == 0, fmt.Sprintf("%s, outbox rows %d", seen, pending)
	})
}
