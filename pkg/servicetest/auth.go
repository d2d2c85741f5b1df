package servicetest

import (
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/auth"
)

// AuthKey is the AUTH_JWT_KEY Start gives a service whose env sets none:
// a test key, not the development one.
const AuthKey = "servicetest-jwt-key-0123456789abcdef-0123456789"

// Token returns "Bearer <jwt>" for subject with roles, signed with
// AuthKey and valid for an hour: the Authorization header of a test
// request. Use a customer id as subject and no roles for a customer.
func Token(tb testing.TB, subject string, roles ...string) string {
	tb.Helper()
	s, err := auth.MustKeys(AuthKey).Mint(subject, time.Hour, roles...)
	if err != nil {
		tb.Fatalf("mint token: %v", err)
	}
	return "Bearer " + s
}

// Operator returns the Authorization header of an operator holding every
// role.
func Operator(tb testing.TB) string {
	tb.Helper()
	return Token(tb, "ops-test", auth.Roles()...)
}

// Getenv returns a lookup in env for a config loader, answering AuthKey
// for AUTH_JWT_KEY when env has no such entry (an entry, even "", is
// answered as is): config tests need not repeat the key.
func Getenv(env map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := env[k]; ok || k != "AUTH_JWT_KEY" {
			return v
		}
		return AuthKey
	}
}
