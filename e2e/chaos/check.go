package chaos

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Item is one line of an order.
type Item struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// Placed is an order the system accepted: a client got a 2xx answer with
// this order id for its Idempotency-Key.
type Placed struct {
	OrderID    string `json:"order_id"`
	Key        string `json:"idempotency_key"`
	CustomerID string `json:"customer_id"`
	Email      string `json:"email"`
	Items      []Item `json:"items"`
}

// Expectation is what the clients know: the orders accepted, the stock
// levels set before the first order, and how many orders must be
// rejected (Rejections; -1 when the plan does not fix it).
type Expectation struct {
	Accepted     []Placed
	InitialStock map[string]int
	Rejections   int
}

// Mail kinds, as the email service records them.
const (
	KindReceipt = "receipt"
	KindApology = "apology"
)

// The rows of the service databases the checker reads.
type (
	// OrderRow is an orders row of the order service.
	OrderRow struct{ ID, CustomerID, Status string }
	// ReservationRow is a reservations row of the inventory service.
	ReservationRow struct{ OrderID, Status string }
	// LineRow is a reservation_lines row of the inventory service.
	LineRow struct {
		OrderID, SKU string
		Quantity     int
	}
	// MailRow is a mails row of the email service.
	MailRow struct{ OrderID, Kind, MessageID, Recipient, Status string }
	// TextRow is a messages row of the sms service.
	TextRow struct{ OrderID, Status string }
	// CaughtMail is a mail in the mail catcher.
	CaughtMail struct {
		MessageID string
		To        []string
		Subject   string
	}
	// ConsumerState is a durable consumer as JetStream reports it.
	ConsumerState struct {
		Stream     string `json:"stream"`
		Durable    string `json:"durable"`
		Pending    uint64 `json:"pending"`
		AckPending uint64 `json:"ack_pending"`
		// Delivered counts every delivery, redeliveries included.
		Delivered uint64 `json:"delivered"`
	}
)

// Snapshot is what the system holds once it has settled.
type Snapshot struct {
	Orders       []OrderRow
	Reservations []ReservationRow
	Lines        []LineRow
	Stock        map[string]int // available per SKU
	Mails        []MailRow
	Texts        []TextRow
	Caught       []CaughtMail
	Outboxes     map[string]int // rows left per service
	Consumers    []ConsumerState
	DeadLetters  int
}

// Effect is one line of the report: how many times the effect was
// expected, applied (once), not applied (lost), applied more than once
// (duplicated, the extra copies) and applied without being expected.
type Effect struct {
	Name       string `json:"name"`
	Expected   int    `json:"expected"`
	Applied    int    `json:"applied"`
	Lost       int    `json:"lost"`
	Duplicated int    `json:"duplicated"`
	Unexpected int    `json:"unexpected"`
	// DuplicatesAllowed marks an effect at the edge (a mail in the
	// catcher) whose duplicates carry the same Message-ID as their twin.
	DuplicatesAllowed bool   `json:"duplicates_allowed,omitempty"`
	Note              string `json:"note,omitempty"`
}

// StockLine is the stock arithmetic of one SKU.
type StockLine struct {
	SKU       string `json:"sku"`
	Initial   int    `json:"initial"`
	Reserved  int    `json:"reserved"`
	Expected  int    `json:"expected_available"`
	Available int    `json:"available"`
}

// Report is the checker's verdict. Findings lists every failure; a
// Report without findings passes.
type Report struct {
	Effects     []Effect        `json:"effects"`
	Stock       []StockLine     `json:"stock"`
	Outboxes    map[string]int  `json:"outboxes"`
	Consumers   []ConsumerState `json:"consumers"`
	DeadLetters int             `json:"dead_letters"`
	Findings    []string        `json:"findings"`
}

// OK reports whether the check found nothing wrong.
func (r *Report) OK() bool { return len(r.Findings) == 0 }

// requiredConsumers are the durables of the order path; each must exist.
var requiredConsumers = []string{"ORDERS/email", "ORDERS/sms", "ORDERS/inventory", "INVENTORY/order-inventory"}

// maxExamples bounds the order ids a finding quotes.
const maxExamples = 5

// Check reconciles the snapshot with what the clients know. For every
// accepted order it expects one order row with a final status (confirmed
// or rejected, never pending), one reservation decision matching that
// status, one receipt row and its mail in the catcher (same Message-ID,
// to the customer), one SMS row, and for a rejected order one apology row
// and its mail; the stock of every SKU must equal its initial level less
// the units reserved. A mail caught twice with the same Message-ID is
// at-least-once delivery at the edge and only reported; a caught mail
// whose Message-ID no mail row holds is a failure. Every outbox must be
// empty, every consumer have nothing pending or awaiting ack, and the DLQ
// be empty.
func Check(exp Expectation, snap Snapshot) *Report {
	c := &checker{exp: exp, snap: snap, r: &Report{
		Outboxes: snap.Outboxes, Consumers: snap.Consumers, DeadLetters: snap.DeadLetters,
	}}
	c.index()
	c.orders()
	c.reservations()
	c.stock()
	c.mails(KindReceipt, "receipt", c.accepted)
	c.mails(KindApology, "apology", c.rejected)
	c.texts()
	c.infrastructure()
	return c.r
}

type checker struct {
	exp  Expectation
	snap Snapshot
	r    *Report

	placed    map[string]Placed // by order id
	accepted  []string          // order ids, in acceptance order
	rejected  []string          // accepted orders decided rejected
	orderRows map[string][]OrderRow
	resRows   map[string][]ReservationRow
	lineRows  map[string][]LineRow
}

func (c *checker) index() {
	c.placed = map[string]Placed{}
	for _, p := range c.exp.Accepted {
		if _, dup := c.placed[p.OrderID]; dup {
			c.fail("order %s was answered to two Idempotency-Keys", p.OrderID)
			continue
		}
		c.placed[p.OrderID] = p
		c.accepted = append(c.accepted, p.OrderID)
	}
	c.orderRows = groupBy(c.snap.Orders, func(o OrderRow) string { return o.ID })
	c.resRows = groupBy(c.snap.Reservations, func(r ReservationRow) string { return r.OrderID })
	c.lineRows = groupBy(c.snap.Lines, func(l LineRow) string { return l.OrderID })
	for _, id := range c.accepted {
		rows, res := c.orderRows[id], c.resRows[id]
		if (len(rows) > 0 && rows[0].Status == "rejected") || (len(res) > 0 && res[0].Status == "rejected") {
			c.rejected = append(c.rejected, id)
		}
	}
}

func (c *checker) fail(format string, args ...any) {
	c.r.Findings = append(c.r.Findings, fmt.Sprintf(format, args...))
}

// failIDs records a finding quoting a few of ids.
func (c *checker) failIDs(what string, ids []string) {
	if len(ids) == 0 {
		return
	}
	shown := ids[:min(len(ids), maxExamples)]
	more := ""
	if len(ids) > len(shown) {
		more = fmt.Sprintf(" and %d more", len(ids)-len(shown))
	}
	c.fail("%s: %d (%s%s)", what, len(ids), strings.Join(shown, ", "), more)
}

// tally counts, for each expected key, how many times the effect was
// applied (per), and which applied keys were not expected.
type tally struct {
	e                            Effect
	lost, duplicated, unexpected []string
}

func newTally(name string, expected []string, per map[string]int) *tally {
	t := &tally{e: Effect{Name: name, Expected: len(expected)}}
	want := map[string]bool{}
	for _, id := range expected {
		want[id] = true
		switch n := per[id]; {
		case n == 0:
			t.e.Lost++
			t.lost = append(t.lost, id)
		default:
			t.e.Applied++
			if n > 1 {
				t.e.Duplicated += n - 1
				t.duplicated = append(t.duplicated, id)
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(per)) {
		if !want[id] && per[id] > 0 {
			t.e.Unexpected += per[id]
			t.unexpected = append(t.unexpected, id)
		}
	}
	return t
}

// record adds the tally's line, and its findings unless ok says a kind
// of deviation is allowed.
func (c *checker) record(t *tally, duplicatesAllowed bool) {
	t.e.DuplicatesAllowed = duplicatesAllowed
	c.r.Effects = append(c.r.Effects, t.e)
	c.failIDs(t.e.Name+" lost", t.lost)
	if !duplicatesAllowed {
		c.failIDs(t.e.Name+" duplicated", t.duplicated)
	}
	c.failIDs(t.e.Name+" unexpected", t.unexpected)
}

func (c *checker) orders() {
	rows := map[string]int{}
	decided := map[string]int{}
	for id, rs := range c.orderRows {
		rows[id] = len(rs)
		for _, r := range rs {
			if r.Status == "confirmed" || r.Status == "rejected" {
				decided[id]++
			}
		}
	}
	c.record(newTally("order row", c.accepted, rows), false)
	t := newTally("order decided (not pending)", c.accepted, decided)
	t.unexpected = nil // rows not accepted are reported once, above
	t.e.Unexpected = 0
	c.record(t, false)
	if c.exp.Rejections >= 0 {
		got := len(c.rejected)
		e := Effect{Name: "order rejected (stock short)", Expected: c.exp.Rejections, Applied: min(got, c.exp.Rejections),
			Lost: max(0, c.exp.Rejections-got), Unexpected: max(0, got-c.exp.Rejections)}
		c.r.Effects = append(c.r.Effects, e)
		if got != c.exp.Rejections {
			c.fail("rejected orders: %d, want %d (the limited stock decides exactly how many)", got, c.exp.Rejections)
		}
	}
}

func (c *checker) reservations() {
	per := map[string]int{}
	var mismatched, wrongLines []string
	for id, rs := range c.resRows {
		per[id] = len(rs)
	}
	for _, id := range c.accepted {
		rs, os := c.resRows[id], c.orderRows[id]
		if len(rs) == 0 || len(os) == 0 {
			continue
		}
		want := map[string]string{"reserved": "confirmed", "rejected": "rejected"}[rs[0].Status]
		if os[0].Status != "pending" && os[0].Status != want {
			mismatched = append(mismatched, id)
		}
		if rs[0].Status == "reserved" && !sameItems(c.placed[id].Items, c.lineRows[id]) {
			wrongLines = append(wrongLines, id)
		}
		if rs[0].Status == "rejected" && len(c.lineRows[id]) > 0 {
			wrongLines = append(wrongLines, id)
		}
	}
	c.record(newTally("reservation decision", c.accepted, per), false)
	c.failIDs("order status differs from its reservation decision", mismatched)
	c.failIDs("reservation lines differ from the order's items", wrongLines)
}

func sameItems(items []Item, lines []LineRow) bool {
	if len(items) != len(lines) {
		return false
	}
	want := map[string]int{}
	for _, it := range items {
		want[it.SKU] += it.Quantity
	}
	for _, l := range lines {
		if want[l.SKU] != l.Quantity {
			return false
		}
	}
	return true
}

func (c *checker) stock() {
	reserved := map[string]int{}
	for _, l := range c.snap.Lines {
		reserved[l.SKU] += l.Quantity
	}
	for _, sku := range slices.Sorted(maps.Keys(c.exp.InitialStock)) {
		initial := c.exp.InitialStock[sku]
		line := StockLine{SKU: sku, Initial: initial, Reserved: reserved[sku], Expected: initial - reserved[sku]}
		available, ok := c.snap.Stock[sku]
		line.Available = available
		c.r.Stock = append(c.r.Stock, line)
		switch {
		case !ok:
			c.fail("stock of %s: no row", sku)
		case available != line.Expected:
			c.fail("stock of %s: %d available, want %d (initial %d less %d reserved)",
				sku, available, line.Expected, initial, line.Reserved)
		}
	}
}

func (c *checker) texts() {
	per := map[string]int{}
	var failed []string
	for _, t := range c.snap.Texts {
		per[t.OrderID]++
		if t.Status != "sent" {
			failed = append(failed, t.OrderID)
		}
	}
	c.record(newTally("sms row (sms db)", c.accepted, per), false)
	c.failIDs("sms rows not sent", failed)
}

func (c *checker) infrastructure() {
	for _, svc := range slices.Sorted(maps.Keys(c.snap.Outboxes)) {
		if n := c.snap.Outboxes[svc]; n > 0 {
			c.fail("outbox of %s holds %d events", svc, n)
		}
	}
	have := map[string]bool{}
	for _, s := range c.snap.Consumers {
		have[s.Stream+"/"+s.Durable] = true
		if s.Pending > 0 || s.AckPending > 0 {
			c.fail("consumer %s/%s: %d pending, %d awaiting ack", s.Stream, s.Durable, s.Pending, s.AckPending)
		}
	}
	for _, name := range requiredConsumers {
		if !have[name] {
			c.fail("consumer %s does not exist", name)
		}
	}
	if c.snap.DeadLetters > 0 {
		c.fail("the DLQ holds %d messages", c.snap.DeadLetters)
	}
}

func groupBy[T any](rows []T, key func(T) string) map[string][]T {
	out := map[string][]T{}
	for _, r := range rows {
		out[key(r)] = append(out[key(r)], r)
	}
	return out
}
