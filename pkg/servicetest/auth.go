package servicetest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

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

// CheckOperatorRead checks that GET path on s, a listing that holds every
// customer's data, answers 401 without a credential and with a bad token,
// 403 to a customer and to an operator without auth.RoleOperatorRead, each
// as a problem+json, and 200 to an operator with that role.
func CheckOperatorRead(tb testing.TB, s *Service, path string) {
	tb.Helper()
	for _, tt := range []struct {
		name, authorization string
		want                int
	}{
		{"no credential", "", http.StatusUnauthorized},
		{"bad token", "Bearer x.y.z", http.StatusUnauthorized},
		{"a customer", Token(tb, uuid.NewString()), http.StatusForbidden},
		{"stock:write", Token(tb, "ops", auth.RoleStockWrite), http.StatusForbidden},
		{"operator:read", Token(tb, "ops", auth.RoleOperatorRead), http.StatusOK},
	} {
		code, body := s.GetAs(path, tt.authorization)
		if code != tt.want {
			tb.Errorf("GET %s as %s: %d, want %d: %s", path, tt.name, code, tt.want, body)
		}
		if tt.want != http.StatusOK && !strings.Contains(body, "problems/") {
			tb.Errorf("GET %s as %s: not a problem: %s", path, tt.name, body)
		}
	}
}
