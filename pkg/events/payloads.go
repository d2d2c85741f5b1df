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
}

// OrderRejected is the payload of TypeOrderRejected. It carries the customer
// so the apology mail needs no lookup.
type OrderRejected struct {
	OrderID     string    `json:"order_id"`
	Customer    Customer  `json:"customer"`
	MissingSKUs []string  `json:"missing_skus"`
	RejectedAt  time.Time `json:"rejected_at"`
}

// InventoryReserved is the payload of TypeInventoryReserved: every item of
// the order is reserved.
type InventoryReserved struct {
	OrderID    string    `json:"order_id"`
	CustomerID string    `json:"customer_id"`
	ReservedAt time.Time `json:"reserved_at"`
}

// InventoryRejected is the payload of TypeInventoryRejected: nothing was
// reserved because the listed SKUs lack stock (or are unknown).
type InventoryRejected struct {
	OrderID     string    `json:"order_id"`
	CustomerID  string    `json:"customer_id"`
	MissingSKUs []string  `json:"missing_skus"`
	RejectedAt  time.Time `json:"rejected_at"`
}

// ErasureRequested is the payload of TypeErasureRequested.
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
