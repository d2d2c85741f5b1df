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
	// OrderID is set for an order token (Keys.MintOrder): the caller may
	// read that one order of its customer, nothing else.
	OrderID string
}

// IsOperator reports whether the token is an operator's: it carries roles.
func (c Caller) IsOperator() bool { return len(c.Roles) > 0 }

// Has reports whether the caller holds role.
func (c Caller) Has(role string) bool { return slices.Contains(c.Roles, role) }

// IsCustomer reports whether the caller is the customer customerID: the
// token's subject is that id (compared case-insensitively, since a UUID may
// be written in either case).
func (c Caller) IsCustomer(customerID string) bool {
	return customerID != "" && strings.EqualFold(c.Subject, customerID)
}

// CanRead reports whether the caller may read all of customerID's data:
// it holds RoleOperatorRead, or is that customer with a full customer
// token (not an order token).
func (c Caller) CanRead(customerID string) bool {
	return c.Has(RoleOperatorRead) || (c.OrderID == "" && c.IsCustomer(customerID))
}

// CanReadOrder reports whether the caller may read the order orderID of
// customerID: it may read all of the customer's data (CanRead), or holds
// an order token of that customer for that order.
func (c Caller) CanReadOrder(customerID, orderID string) bool {
	return c.CanRead(customerID) || (c.IsCustomer(customerID) && strings.EqualFold(c.OrderID, orderID))
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
