package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// An order the stock covers is texted, mailed and reserved, each by its
// own consumer of the one order placed event, and the order's status
// follows the reservation: confirmed, after pending.
func TestOrderInStockIsConfirmed(t *testing.T) {
	t.Parallel()
	sys := newSystem(t, nil)
	mc := mailbox(t, sys)

	o := sampleOrder()
	before := stockLevels(t, sys, "ESPRESSO-1KG", "MUG-WHITE")
	id := placeOrder(t, sys, o)
	orders := map[string]orderRequest{id: o}

	waitOrdersDecided(t, sys, orders, time.Minute)
	waitTexts(t, sys, orders, time.Minute)
	waitExactlyOnce(t, sys, mc, orders, time.Minute)
	checkTexts(t, sys, orders)
	want := map[string]int{}
	for _, it := range o.Items {
		want[it.SKU] = before[it.SKU] - it.Quantity
	}
	checkStock(t, sys, want)
	checkHistory(t, getOrder(t, sys, id), statusConfirmed)
}

// An order for more than the stock is rejected as a whole: no stock
// taken, the missing SKU named in its history and in an apology mailed
// besides the receipt; the SMS that the order was received goes out all
// the same.
func TestOrderBeyondStockIsRejected(t *testing.T) {
	t.Parallel()
	sys := newSystem(t, nil)
	mc := mailbox(t, sys)

	before := stockLevels(t, sys, "ESPRESSO-1KG", "GRINDER-HAND")
	o := sampleOrder()
	o.Items = []item{{SKU: "ESPRESSO-1KG", Quantity: 1}, {SKU: "GRINDER-HAND", Quantity: before["GRINDER-HAND"] + 1}}
	id := placeOrder(t, sys, o)
	orders := map[string]orderRequest{id: o}

	waitOrdersDecided(t, sys, orders, time.Minute)
	msgs := waitMailsExactlyOnce(t, sys, mc, orders, map[string]bool{id: true}, time.Minute)
	last := checkHistory(t, getOrder(t, sys, id), statusRejected)
	if !strings.Contains(last.Note, "GRINDER-HAND") {
		t.Errorf("rejection note %q does not name the missing SKU GRINDER-HAND", last.Note)
	}
	if a, ok := mailsOfKind(msgs, kindApology)[id]; ok && !strings.Contains(a.Text, "GRINDER-HAND") {
		t.Errorf("apology does not name the missing SKU GRINDER-HAND:\n%s", a.Text)
	}
	checkStock(t, sys, before)
	checkTexts(t, sys, orders)
}

// Fifty customers order at once one unit each of a SKU with ten in stock:
// exactly ten orders are confirmed and the stock ends at zero, never
// below; the forty others are rejected with an apology; everyone gets one
// receipt and one SMS.
func TestConcurrentOrdersForScarceStock(t *testing.T) {
	t.Parallel()
	const sku, stock, customers = "GRINDER-HAND", 10, 50
	sys := newSystem(t, nil)
	mc := mailbox(t, sys)
	setStock(t, sys, sku, stock)

	var (
		mu     sync.Mutex
		orders = make(map[string]orderRequest, customers)
		errs   []error
		wg     sync.WaitGroup
	)
	for range customers {
		o := sampleOrder()
		o.Items = []item{{SKU: sku, Quantity: 1}}
		wg.Go(func() {
			id, err := tryPlaceOrder(t.Context(), sys, o)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			orders[id] = o
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}

	statuses := byStatus(waitOrdersDecided(t, sys, orders, 2*time.Minute))
	if n, m := len(statuses[statusConfirmed]), len(statuses[statusRejected]); n != stock || m != customers-stock {
		t.Fatalf("%d orders confirmed and %d rejected, want %d and %d", n, m, stock, customers-stock)
	}
	msgs := waitMailsExactlyOnce(t, sys, mc, orders, statuses[statusRejected], 2*time.Minute)
	for id, a := range mailsOfKind(msgs, kindApology) {
		if !strings.Contains(a.Text, sku) {
			t.Errorf("apology of order %s does not name %s:\n%s", id, sku, a.Text)
		}
	}
	checkStock(t, sys, map[string]int{sku: 0})
	checkTexts(t, sys, orders)
	if t.Failed() {
		t.Logf("orders by status: %s", fmt.Sprint(statuses))
	}
}
