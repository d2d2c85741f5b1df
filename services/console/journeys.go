package main

import (
	"slices"
	"sync"
	"time"
)

// Step results, as the page shows them.
const (
	resultPlaced       = "placed"
	resultSent         = "sent"
	resultDeadLettered = "dead-lettered"
	resultReserved     = "reserved"
	resultRejected     = "rejected"
	resultConfirmed    = "confirmed"
	statusPending      = "pending"
)

// step is one stage of an order's journey: what happened and when the
// console saw it (the event's time for events; for the receipt and the SMS,
// which are not events, when the console saw the durable's ack floor pass
// the order's placed event).
type step struct {
	Result string    `json:"result"`
	At     time.Time `json:"at"`
}

// journey is one order's way through the services. It holds ids and
// counts only, never the customer's name, e-mail or phone.
type journey struct {
	OrderID    string `json:"order_id"`
	CustomerID string `json:"customer_id,omitempty"`
	Items      int    `json:"items"`
	// Seq is the placed event's sequence in the ORDERS stream, 0 until the
	// console has seen it; receipt and SMS are read off it.
	Seq uint64 `json:"seq,omitempty"`
	// Status is pending, confirmed or rejected.
	Status  string `json:"status"`
	Placed  *step  `json:"placed,omitempty"`
	Receipt *step  `json:"receipt,omitempty"`
	SMS     *step  `json:"sms,omitempty"`
	Stock   *step  `json:"stock,omitempty"`
	Outcome *step  `json:"outcome,omitempty"`

	seen uint64 // order of first sighting, for eviction and listing
}

// journeys keeps the journeys of the most recent orders, at most max of
// them (the oldest sighting goes first). Events arrive from several
// streams in any order, so any event may create a journey; the placed
// event fills in the rest. Its methods are safe for concurrent use.
type journeys struct {
	max int

	mu    sync.Mutex
	byID  map[string]*journey
	clock uint64
}

func newJourneys(max int) *journeys {
	return &journeys{max: max, byID: map[string]*journey{}}
}

// get returns the journey of orderID, creating it (and evicting the
// oldest beyond max) when it is new. The caller holds mu.
func (j *journeys) get(orderID string) *journey {
	if o, ok := j.byID[orderID]; ok {
		return o
	}
	j.clock++
	o := &journey{OrderID: orderID, Status: statusPending, seen: j.clock}
	j.byID[orderID] = o
	for len(j.byID) > j.max {
		var oldest *journey
		for _, c := range j.byID {
			if oldest == nil || c.seen < oldest.seen {
				oldest = c
			}
		}
		delete(j.byID, oldest.OrderID)
	}
	return o
}

// placed records an orders.placed event stored at ORDERS sequence seq.
func (j *journeys) placed(seq uint64, at time.Time, orderID, customerID string, items int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	o := j.get(orderID)
	o.Seq, o.CustomerID, o.Items = seq, customerID, items
	o.Placed = &step{Result: resultPlaced, At: at}
}

// stock records the inventory result (reserved or rejected).
func (j *journeys) stock(orderID, customerID, result string, at time.Time) {
	j.mu.Lock()
	defer j.mu.Unlock()
	o := j.get(orderID)
	if o.CustomerID == "" {
		o.CustomerID = customerID
	}
	o.Stock = &step{Result: result, At: at}
}

// outcome records orders.confirmed or orders.rejected.
func (j *journeys) outcome(orderID, customerID, result string, at time.Time) {
	j.mu.Lock()
	defer j.mu.Unlock()
	o := j.get(orderID)
	if o.CustomerID == "" {
		o.CustomerID = customerID
	}
	o.Outcome = &step{Result: result, At: at}
	o.Status = result
}

// handledBy says, for one durable consuming ORDERS, how far it got: every
// message up to ackFloor is acknowledged (or terminated), and deadLettered
// holds the ORDERS sequences it dead-lettered.
type handledBy struct {
	ackFloor     uint64
	deadLettered map[uint64]bool
	exists       bool
}

// sideEffects marks the receipt and SMS steps of the journeys whose placed
// event the email and sms durables have handled, at now. It reports
// whether anything changed.
func (j *journeys) sideEffects(email, sms handledBy, now time.Time) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	changed := false
	mark := func(s **step, h handledBy, seq uint64) {
		if *s != nil || !h.exists || seq == 0 || seq > h.ackFloor {
			return
		}
		r := resultSent
		if h.deadLettered[seq] {
			r = resultDeadLettered
		}
		*s, changed = &step{Result: r, At: now}, true
	}
	for _, o := range j.byID {
		mark(&o.Receipt, email, o.Seq)
		mark(&o.SMS, sms, o.Seq)
	}
	return changed
}

// forgetCustomer drops the journeys of a customer whose data is being
// erased: the console keeps nothing the erasure removes elsewhere.
func (j *journeys) forgetCustomer(customerID string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for id, o := range j.byID {
		if o.CustomerID == customerID {
			delete(j.byID, id)
		}
	}
}

// list returns copies of the journeys, the most recently seen first.
func (j *journeys) list() []journey {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]journey, 0, len(j.byID))
	for _, o := range j.byID {
		out = append(out, *o)
	}
	slices.SortFunc(out, func(a, b journey) int {
		switch {
		case a.seen > b.seen:
			return -1
		case a.seen < b.seen:
			return 1
		}
		return 0
	})
	return out
}
