// Package status holds the rules of an order's life: the statuses it can
// have and which changes between them are allowed.
//
// An order starts pending and moves once, forward, to confirmed (the
// inventory reserved every item) or rejected (it could not). Confirmed and
// rejected are final. Any other change is refused, so that an inventory
// result delivered again, or after a conflicting one, leaves the order as
// it is.
package status

// Status is an order's status, stored and shown as its string value.
type Status string

// The statuses of an order.
const (
	// Pending is the status of a new order, until the inventory answers.
	Pending Status = "pending"
	// Confirmed is final: the inventory reserved every item.
	Confirmed Status = "confirmed"
	// Rejected is final: the inventory lacked some items and reserved none.
	Rejected Status = "rejected"
)

// CanChange reports whether an order in status from may move to status
// to: only pending → confirmed and pending → rejected are allowed. Every
// other pair, including staying in the same status and any unknown
// status, is refused; the caller then leaves the order unchanged.
func CanChange(from, to Status) bool {
	return from == Pending && (to == Confirmed || to == Rejected)
}
