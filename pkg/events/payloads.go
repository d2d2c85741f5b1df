package events

import "time"

// Customer is the customer as the order carried it. Name, Email and Phone
// are personal data: never log them at info level, and erase them on request.
type Customer struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone"`
}

// Item is one order line.
type Item struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// OrderPlaced is the payload of TypeOrderPlaced.
type OrderPlaced struct {
	OrderID  string    `json:"order_id"`
	Customer Customer  `json:"customer"`
	Items    []Item    `json:"items"`
	PlacedAt time.Time `json:"placed_at"`
}

// OrderConfirmed is the payload of TypeOrderConfirmed.
type OrderConfirmed struct {
	OrderID     string    `json:"order_id"`
	CustomerID  string    `json:"customer_id"`
	ConfirmedAt time.Time `json:"confirmed_at"`
	// PlacedAt is the order's placed_at: an erasure participant compares
	// it with its tombstone (pkg/erasure).
	PlacedAt time.Time `json:"placed_at,omitzero"`
}

// OrderRejected is the payload of TypeOrderRejected. It carries the customer
// so the apology mail needs no lookup.
type OrderRejected struct {
	OrderID     string    `json:"order_id"`
	Customer    Customer  `json:"customer"`
	MissingSKUs []string  `json:"missing_skus"`
	RejectedAt  time.Time `json:"rejected_at"`
	// PlacedAt is the order's placed_at (see OrderConfirmed.PlacedAt).
	PlacedAt time.Time `json:"placed_at,omitzero"`
}

// InventoryReserved is the payload of TypeInventoryReserved: every item of
// the order is reserved.
type InventoryReserved struct {
	OrderID    string    `json:"order_id"`
	CustomerID string    `json:"customer_id"`
	ReservedAt time.Time `json:"reserved_at"`
	// PlacedAt is the order's placed_at (see OrderConfirmed.PlacedAt).
	PlacedAt time.Time `json:"placed_at,omitzero"`
}

// InventoryRejected is the payload of TypeInventoryRejected: nothing was
// reserved because the listed SKUs lack stock (or are unknown).
type InventoryRejected struct {
	OrderID     string    `json:"order_id"`
	CustomerID  string    `json:"customer_id"`
	MissingSKUs []string  `json:"missing_skus"`
	RejectedAt  time.Time `json:"rejected_at"`
	// PlacedAt is the order's placed_at (see OrderConfirmed.PlacedAt).
	PlacedAt time.Time `json:"placed_at,omitzero"`
}

// ErasureRequested is the payload of TypeErasureRequested. RequestedAt is
// the erasure's cut-off: what a participant holds about orders placed up
// to it is erased, and every event about such an order is suppressed from
// then on; an order placed after it is a new order (pkg/erasure).
type ErasureRequested struct {
	ErasureID   string    `json:"erasure_id"`
	CustomerID  string    `json:"customer_id"`
	RequestedAt time.Time `json:"requested_at"`
}

// ErasureCompleted is the payload of TypeErasureCompleted: participant
// Service has erased the customer's personal data; Erased counts what it
// erased by kind (table or record type), as proof.
type ErasureCompleted struct {
	ErasureID   string           `json:"erasure_id"`
	CustomerID  string           `json:"customer_id"`
	Service     string           `json:"service"`
	Erased      map[string]int64 `json:"erased"`
	CompletedAt time.Time        `json:"completed_at"`
}

// ErasureVerify is the payload of TypeErasureVerify: the gdpr service has
// purged the customer's messages up to Bounds (by stream, the last
// sequence the purge examined) and asks every participant to verify the
// erasure.
type ErasureVerify struct {
	ErasureID   string            `json:"erasure_id"`
	CustomerID  string            `json:"customer_id"`
	RequestedAt time.Time         `json:"requested_at"`
	Bounds      map[string]uint64 `json:"bounds"`
}

// ErasureVerified is the payload of TypeErasureVerified: participant
// Service found no personal data of the customer from before the cut-off
// (Remaining counts what it still found, and erased, by kind: all zero
// when verified) and each of its consumers (Consumers: durable → ack
// floor) has settled every message up to the purge bound of its stream.
type ErasureVerified struct {
	ErasureID  string            `json:"erasure_id"`
	CustomerID string            `json:"customer_id"`
	Service    string            `json:"service"`
	Remaining  map[string]int64  `json:"remaining"`
	Suppressed int64             `json:"suppressed"`
	Consumers  map[string]uint64 `json:"consumers"`
	VerifiedAt time.Time         `json:"verified_at"`
}
