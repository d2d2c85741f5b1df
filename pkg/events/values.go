package events

import "github.com/google/uuid"

// The value rules of the contract: every producer writes ids, phone
// numbers and SKUs in these forms, and every consumer checks them with
// these functions, so that a value means one thing across the services
// (see asyncapi.yaml).

// MaxSKULength is the longest SKU ValidSKU accepts.
const MaxSKULength = 32

// ValidUUID reports whether s is a UUID in its canonical form: 36
// characters, lower-case hex, as the services generate them. Customer,
// order, erasure and event ids must be canonical: a customer's id ends
// the subjects of their events, so two spellings of one id would be two
// customers to JetStream, and PostgreSQL would accept forms (upper case,
// braces, urn:uuid:) that the subjects do not.
func ValidUUID(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && u.String() == s
}

// ValidPhone reports whether p is an E.164 number: '+', a non-zero digit,
// then 1 to 14 more digits, nothing else.
func ValidPhone(p string) bool {
	if len(p) < 3 || len(p) > 16 || p[0] != '+' || p[1] < '1' || p[1] > '9' {
		return false
	}
	for i := 2; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

// ValidSKU reports whether s matches ^[A-Z0-9][A-Z0-9-]{1,31}$, the SKU
// format of the catalog.
func ValidSKU(s string) bool {
	if len(s) < 2 || len(s) > MaxSKULength || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
