package main

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/orderbus/orderbus/pkg/auth"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

// TestListingNeedsOperatorRead: GET /v1/messages holds every customer's
// recipients, so it answers 401 without a credential, 403 to a customer
// (its own id or another's) and to an operator without operator:read, and
// 200 to operator:read.
func TestListingNeedsOperatorRead(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	const path = "/v1/messages?to=%2B442071838750"
	for _, tt := range []struct {
		name, authorization string
		want                int
	}{
		{"no credential", "", 401},
		{"bad token", "Bearer x.y.z", 401},
		{"a customer", servicetest.Token(t, uuid.NewString()), 403},
		{"stock:write", servicetest.Token(t, "ops", auth.RoleStockWrite), 403},
		{"operator:read", servicetest.Token(t, "ops", auth.RoleOperatorRead), 200},
	} {
		code, body := e.GetAs(path, tt.authorization)
		if code != tt.want {
			t.Errorf("%s: %d, want %d: %s", tt.name, code, tt.want, body)
		}
		if tt.want != 200 && !strings.Contains(body, "problems/") {
			t.Errorf("%s: not a problem: %s", tt.name, body)
		}
	}
}
