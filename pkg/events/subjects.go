package events

import (
	"strings"
)

// Stream names.
const (
	// StreamOrders holds orders.placed/confirmed/rejected.<customer>.
	StreamOrders = "ORDERS"
	// StreamInventory holds inventory.reserved/rejected.<customer>.
	StreamInventory = "INVENTORY"
	// StreamGDPR holds gdpr.erasure.requested, gdpr.erasure.completed.<service>,
	// gdpr.erasure.verify and gdpr.erasure.verified.<service>.
	StreamGDPR = "GDPR"
	// StreamDLQ holds dlq.<consumer>.<original subject>: copies of messages a
	// consumer gave up on, with the error in their headers.
	StreamDLQ = "DLQ"
)

// SubjectErasureRequested is the subject of every erasure request; the
// customer id is in the payload, since participants must all see it.
const SubjectErasureRequested = "gdpr.erasure.requested"

// SubjectErasureVerify is the subject of every verification request the
// gdpr service sends once it has purged an erasure's messages.
const SubjectErasureVerify = "gdpr.erasure.verify"

// Subject filters for durable consumers.
const (
	// FilterOrderPlaced matches every orders.placed.<customer>.
	FilterOrderPlaced = "orders.placed.>"
	// FilterOrderConfirmed matches every orders.confirmed.<customer>.
	FilterOrderConfirmed = "orders.confirmed.>"
	// FilterOrderRejected matches every orders.rejected.<customer>.
	FilterOrderRejected = "orders.rejected.>"
	// FilterInventory matches inventory.reserved.<customer> and inventory.rejected.<customer>.
	FilterInventory = "inventory.>"
	// FilterErasureRequested matches the erasure requests.
	FilterErasureRequested = SubjectErasureRequested
	// FilterErasureCompleted matches every gdpr.erasure.completed.<service>.
	FilterErasureCompleted = "gdpr.erasure.completed.>"
	// FilterErasureVerify matches the verification requests.
	FilterErasureVerify = SubjectErasureVerify
	// FilterErasureVerified matches every gdpr.erasure.verified.<service>.
	FilterErasureVerified = "gdpr.erasure.verified.>"
)

// OrderPlacedSubject returns orders.placed.<customer>, the customer id
// escaped with SubjectToken.
func OrderPlacedSubject(customerID string) string {
	return "orders.placed." + SubjectToken(customerID)
}

// OrderConfirmedSubject returns orders.confirmed.<customer>, the customer id
// escaped with SubjectToken.
func OrderConfirmedSubject(customerID string) string {
	return "orders.confirmed." + SubjectToken(customerID)
}

// OrderRejectedSubject returns orders.rejected.<customer>, the customer id
// escaped with SubjectToken.
func OrderRejectedSubject(customerID string) string {
	return "orders.rejected." + SubjectToken(customerID)
}

// InventoryReservedSubject returns inventory.reserved.<customer>, the
// customer id escaped with SubjectToken.
func InventoryReservedSubject(customerID string) string {
	return "inventory.reserved." + SubjectToken(customerID)
}

// InventoryRejectedSubject returns inventory.rejected.<customer>, the
// customer id escaped with SubjectToken.
func InventoryRejectedSubject(customerID string) string {
	return "inventory.rejected." + SubjectToken(customerID)
}

// ErasureCompletedSubject returns gdpr.erasure.completed.<service>, the
// service name escaped with SubjectToken.
func ErasureCompletedSubject(service string) string {
	return "gdpr.erasure.completed." + SubjectToken(service)
}

// ErasureVerifiedSubject returns gdpr.erasure.verified.<service>, the
// service name escaped with SubjectToken.
func ErasureVerifiedSubject(service string) string {
	return "gdpr.erasure.verified." + SubjectToken(service)
}

// DLQSubject returns dlq.<consumer>.<original>: the dead-letter subject for a
// message on subject original that durable consumer gave up on. The
// consumer name is escaped with SubjectToken; original is kept as is, so the
// customer id stays the last token and the DLQ can be purged per customer.
func DLQSubject(consumer, original string) string {
	return "dlq." + SubjectToken(consumer) + "." + original
}

// SubjectToken returns s made safe to be one subject token: '%', '.', '*',
// '>', spaces and control characters become %XX, and "" becomes "%". The
// mapping is one-to-one, so two different ids never share a subject, and it
// leaves ids made of letters, digits, '-' and '_' unchanged. Anyone building
// a filter for an id (a purge, say) must escape it the same way.
func SubjectToken(s string) string {
	if s == "" {
		return "%"
	}
	if !strings.ContainsFunc(s, needsEscape) {
		return s
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if needsEscape(rune(c)) {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// needsEscape reports whether r may not appear in a subject token (or is
// the escape character itself). Multi-byte UTF-8 is allowed by NATS and kept.
func needsEscape(r rune) bool {
	switch r {
	case '%', '.', '*', '>':
		return true
	}
	return r <= ' ' || r == 0x7f
}
