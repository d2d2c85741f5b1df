package auth

import (
	"context"
	"slices"
	"strings"
)

// Caller is the verified holder of a request's token.
type Caller struct {
	// Subject is the token's sub: a customer id for a customer, the
	// operator's or tool's name otherwise.
	Subject string
	// Roles are the roles the token grants (none for a customer).
	Roles []string
}

// Has reports whether the caller holds role.
func (c Caller) Has(role string) bool { return slices.Contains(c.Roles, role) }

// IsCustomer reports whether the caller is the customer customerID: the
// token's subject is that id (compared case-insensitively, since a UUID may
// be written in either case).
func (c Caller) IsCustomer(customerID string) bool {
	return customerID != "" && strings.EqualFold(c.Subject, customerID)
}

// CanRead reports whether the caller may read customerID's data: it is
// that customer, or holds RoleOperatorRead.
func (c Caller) CanRead(customerID string) bool {
	return c.IsCustomer(customerID) || c.Has(RoleOperatorRead)
}

type callerKey struct{}

// WithCaller returns ctx carrying c; Require and Authenticate store the
// verified caller this way.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller Require or Authenticate stored in ctx, and
// false when the request carried no token.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}
