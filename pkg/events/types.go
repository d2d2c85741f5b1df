package events

// CloudEvents types (ce-type). The version suffix changes only with an
// incompatible payload change; adding fields is compatible because readers
// accept unknown fields.
const (
	// TypeOrderPlaced is published on OrderPlacedSubject with an OrderPlaced payload.
	TypeOrderPlaced = "orderbus.order.placed.v1"
	// TypeOrderConfirmed is published on OrderConfirmedSubject with an OrderConfirmed payload.
	TypeOrderConfirmed = "orderbus.order.confirmed.v1"
	// TypeOrderRejected is published on OrderRejectedSubject with an OrderRejected payload.
	TypeOrderRejected = "orderbus.order.rejected.v1"
	// TypeInventoryReserved is published on InventoryReservedSubject with an InventoryReserved payload.
	TypeInventoryReserved = "orderbus.inventory.reserved.v1"
	// TypeInventoryRejected is published on InventoryRejectedSubject with an InventoryRejected payload.
	TypeInventoryRejected = "orderbus.inventory.rejected.v1"
	// TypeErasureRequested is published on SubjectErasureRequested with an ErasureRequested payload.
	TypeErasureRequested = "orderbus.gdpr.erasure.requested.v1"
	// TypeErasureCompleted is published on ErasureCompletedSubject with an ErasureCompleted payload.
	TypeErasureCompleted = "orderbus.gdpr.erasure.completed.v1"
	// TypeErasureVerify is published on SubjectErasureVerify with an ErasureVerify payload.
	TypeErasureVerify = "orderbus.gdpr.erasure.verify.v1"
	// TypeErasureVerified is published on ErasureVerifiedSubject with an ErasureVerified payload.
	TypeErasureVerified = "orderbus.gdpr.erasure.verified.v1"
)

// Types returns every event type constant, for documentation checks and
// routing tables.
func Types() []string {
	return []string{
		TypeOrderPlaced, TypeOrderConfirmed, TypeOrderRejected,
		TypeInventoryReserved, TypeInventoryRejected,
		TypeErasureRequested, TypeErasureCompleted, TypeErasureVerify, TypeErasureVerified,
	}
}
