package auth

import "slices"

// The roles a token can carry; see the package documentation for what each
// allows.
const (
	// RoleOperatorRead reads any customer's orders, the mail and SMS
	// listings, erasure states and dead letters.
	RoleOperatorRead = "operator:read"
	// RoleStockWrite sets stock levels and creates SKUs.
	RoleStockWrite = "stock:write"
	// RoleErasureWrite requests the erasure of any customer's data.
	RoleErasureWrite = "erasure:write"
	// RoleDLQWrite redrives and purges dead letters.
	RoleDLQWrite = "dlq:write"
)

// Roles returns every role, in documentation order.
func Roles() []string {
	return []string{RoleOperatorRead, RoleStockWrite, RoleErasureWrite, RoleDLQWrite}
}

// KnownRole reports whether role is one of Roles.
func KnownRole(role string) bool { return slices.Contains(Roles(), role) }
