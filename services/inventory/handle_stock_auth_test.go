package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/orderbus/orderbus/pkg/auth"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

// TestSetStockNeedsStockWrite: PUT /v1/stock/{sku} without a credential
// is 401, with another role or a customer's token 403, and changes
// nothing; with stock:write it sets the level. Reading stays open.
func TestSetStockNeedsStockWrite(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	const path = "/v1/stock/AUTH-TEST-1"
	for _, tt := range []struct {
		name, authorization string
		want                int
	}{
		{"no credential", "", 401},
		{"bad token", "Bearer x.y.z", 401},
		{"operator:read", servicetest.Token(t, "ops", auth.RoleOperatorRead), 403},
		{"a customer", servicetest.Token(t, uuid.NewString()), 403},
	} {
		if code, body := e.doAs(http.MethodPut, path, tt.authorization, `{"available": 5}`); code != tt.want {
			t.Errorf("%s: %d, want %d: %s", tt.name, code, tt.want, body)
		}
	}
	if code, _ := e.doAs(http.MethodGet, path, "", ""); code != http.StatusNotFound {
		t.Fatalf("a refused PUT created the SKU: GET answers %d", code)
	}
	if code, body := e.doAs(http.MethodPut, path, servicetest.Token(t, "ops", auth.RoleStockWrite), `{"available": 5}`); code != http.StatusOK && code != http.StatusCreated {
		t.Fatalf("stock:write: %d %s", code, body)
	}
	if code, body := e.doAs(http.MethodGet, path, "", ""); code != http.StatusOK || !strings.Contains(body, `"available":5`) {
		t.Fatalf("GET without credential: %d %s, want the level", code, body)
	}
}
