package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/orderbus/orderbus/pkg/auth"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

// TestOrderRoutesAuthorization checks each read route without a
// credential (401), with an operator token lacking operator:read (403),
// with another customer's token (404 for an order, 403 for a listing),
// and that the owner and an operator get their data.
func TestOrderRoutesAuthorization(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	ada, bob := uuid.NewString(), uuid.NewString()
	var first, second createAnswer
	decodeJSON(t, e.postOrder(t, orderBody(t, ada, "SKU-1"), ""), &first)
	decodeJSON(t, e.postOrder(t, orderBody(t, ada, "SKU-2"), ""), &second)
	if first.Token == "" {
		t.Fatal("the 202 holds no order token")
	}
	bearer := func(token string) string { return "Bearer " + token }
	adaToken := servicetest.Token(t, ada)
	bobToken := servicetest.Token(t, bob)
	stockWriter := servicetest.Token(t, "ops-stock", auth.RoleStockWrite)
	operator := servicetest.Token(t, "ops-read", auth.RoleOperatorRead)

	order := "/v1/orders/" + first.ID
	list := "/v1/orders?customer_id=" + ada
	for _, tt := range []struct {
		name, path, authorization string
		want                      int
	}{
		{"order without credential", order, "", 401},
		{"order with a bad token", order, "Bearer not-a-jwt", 401},
		{"order with the wrong role", order, stockWriter, 403},
		{"order of another customer", order, bobToken, 404},
		{"order with the order token of another order", order, bearer(second.Token), 404},
		{"order with its order token", order, bearer(first.Token), 200},
		{"order with the customer token", order, adaToken, 200},
		{"order as operator", order, operator, 200},
		{"list without credential", list, "", 401},
		{"list with the wrong role", list, stockWriter, 403},
		{"list of another customer", list, bobToken, 403},
		{"list with an order token", list, bearer(first.Token), 403},
		{"list with the customer token", list, adaToken, 200},
		{"list as operator", list, operator, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := map[string]string{}
			if tt.authorization != "" {
				h["Authorization"] = tt.authorization
			}
			r := e.do(t, http.MethodGet, tt.path, h, nil)
			if r.status != tt.want {
				t.Fatalf("status %d, want %d: %s", r.status, tt.want, r.body)
			}
			switch {
			case tt.want == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer "):
				t.Errorf("401 without a Bearer challenge: %q", r.header.Get("WWW-Authenticate"))
			case tt.want >= 400 && r.header.Get("Content-Type") != "application/problem+json":
				t.Errorf("Content-Type %q, want problem+json", r.header.Get("Content-Type"))
			case tt.want == 200 && tt.path == order && !strings.Contains(string(r.body), "ada@example.com"):
				t.Errorf("the owner's read lacks the order's data: %s", r.body)
			case tt.want == 200 && tt.path == list && !strings.Contains(string(r.body), second.ID):
				t.Errorf("the listing lacks the customer's orders: %s", r.body)
			}
		})
	}
}

// TestPlaceOrderWithAnotherCustomersToken: a customer token may only
// order for itself.
func TestPlaceOrderWithAnotherCustomersToken(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	h := map[string]string{"Content-Type": "application/json", "Authorization": servicetest.Token(t, uuid.NewString())}
	if r := e.do(t, http.MethodPost, "/v1/orders", h, orderBody(t, uuid.NewString(), "SKU-1")); r.status != http.StatusForbidden {
		t.Fatalf("status %d, want 403: %s", r.status, r.body)
	}
	if n := e.count(t, "orders"); n != 0 {
		t.Fatalf("orders holds %d rows, want 0", n)
	}
}

// TestPlaceOrderRateLimit: a burst from one client gets 429 with
// Retry-After past the limit, nothing is stored for the refused requests,
// and another client is unaffected.
func TestPlaceOrderRateLimit(t *testing.T) {
	t.Parallel()
	e := startEnv(t, map[string]string{"RATE_LIMIT_ORDERS": "3", "RATE_LIMIT_WINDOW": "1m", "RATE_LIMIT_IP_HEADER": "X-Forwarded-For"})
	post := func(client string) response {
		return e.do(t, http.MethodPost, "/v1/orders",
			map[string]string{"Content-Type": "application/json", "X-Forwarded-For": client},
			orderBody(t, uuid.NewString(), "SKU-1"))
	}
	var accepted, refused int
	for range 6 {
		switch r := post("192.0.2.10"); r.status {
		case http.StatusAccepted:
			accepted++
		case http.StatusTooManyRequests:
			refused++
			if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 {
				t.Errorf("429 with Retry-After %q, want seconds", r.header.Get("Retry-After"))
			}
			if r.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("429 Content-Type %q", r.header.Get("Content-Type"))
			}
		default:
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	}
	if accepted != 3 || refused != 3 {
		t.Fatalf("accepted %d, refused %d; want 3 and 3", accepted, refused)
	}
	if n := e.count(t, "orders"); n != 3 {
		t.Errorf("orders holds %d rows, want 3 (none for the refused)", n)
	}
	if r := post("192.0.2.11"); r.status != http.StatusAccepted {
		t.Errorf("another client: %d, want 202", r.status)
	}
}
