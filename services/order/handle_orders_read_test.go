package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/orderbus/orderbus/pkg/web"
)

type orderAnswer struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Customer *struct {
		ID, Name, Email, Phone string
	} `json:"customer"`
	Items []struct {
		SKU      string `json:"sku"`
		Quantity int    `json:"quantity"`
	} `json:"items"`
	History []struct {
		Status string    `json:"status"`
		At     time.Time `json:"at"`
		Note   string    `json:"note"`
	} `json:"history"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func TestGetOrder(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	customer := uuid.NewString()
	created := e.postOrder(t, orderBody(t, customer, "B-2", "A-1"), "")
	var placed createAnswer
	decodeJSON(t, created, &placed)

	// The owner reads it with the order token of the 202.
	resp := e.do(t, http.MethodGet, "/v1/orders/"+placed.ID, as(placed.Token), nil)

	if resp.status != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", resp.status, resp.body)
	}
	var got orderAnswer
	decodeJSON(t, resp, &got)
	if got.ID != placed.ID || got.Status != "pending" || !got.CreatedAt.Equal(placed.CreatedAt) || !got.UpdatedAt.Equal(placed.CreatedAt) {
		t.Errorf("order = %+v, want id %s pending created %s", got, placed.ID, placed.CreatedAt)
	}
	if c := got.Customer; c == nil || c.ID != customer || c.Name != "Ada Lovelace" || c.Email != "ada@example.com" || c.Phone != "+441234567890" {
		t.Errorf("customer = %+v, want the posted customer", c)
	}
	if len(got.Items) != 2 || got.Items[0].SKU != "B-2" || got.Items[0].Quantity != 1 || got.Items[1].SKU != "A-1" {
		t.Errorf("items = %+v, want B-2×1, A-1×2 in posted order", got.Items)
	}
	if len(got.History) != 1 || got.History[0].Status != "pending" || !got.History[0].At.Equal(placed.CreatedAt) {
		t.Errorf("history = %+v, want one pending entry at %s", got.History, placed.CreatedAt)
	}

	for name, path := range map[string]string{
		"unknown id": "/v1/orders/" + uuid.NewString(),
		"not a uuid": "/v1/orders/not-a-uuid",
	} {
		resp := e.do(t, http.MethodGet, path, asOperator(t), nil)
		var p web.Problem
		decodeJSON(t, resp, &p)
		if resp.status != http.StatusNotFound || p.Type != web.ProblemNotFound ||
			resp.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s, want 404 not-found problem", name, resp.status, resp.body)
		}
	}
}

func TestListOrdersByCustomer(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	customer, other := uuid.NewString(), uuid.NewString()
	var placedIDs []string
	for i := range 3 {
		var a createAnswer
		decodeJSON(t, e.postOrder(t, orderBody(t, customer, "SKU-"+string(rune('A'+i))), ""), &a)
		placedIDs = append(placedIDs, a.ID)
	}
	e.postOrder(t, orderBody(t, other, "SKU-X"), "")
	slices.Reverse(placedIDs) // newest first

	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"all", "?customer_id=" + customer, placedIDs},
		{"limit", "?customer_id=" + customer + "&limit=2", placedIDs[:2]},
		{"limit above max", "?customer_id=" + customer + "&limit=1000", placedIDs},
		{"upper-case id", "?customer_id=" + strings.ToUpper(customer), placedIDs},
		{"no orders", "?customer_id=" + uuid.NewString(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := e.do(t, http.MethodGet, "/v1/orders"+tt.query, asOperator(t), nil)
			if resp.status != http.StatusOK {
				t.Fatalf("status %d, want 200; body %s", resp.status, resp.body)
			}
			var got struct{ Orders []orderAnswer }
			decodeJSON(t, resp, &got)
			var ids []string
			for _, o := range got.Orders {
				ids = append(ids, o.ID)
				if o.Customer != nil || len(o.Items) != 1 {
					t.Errorf("summary %+v: want no customer data and its one item", o)
				}
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("ids = %v, want %v", ids, tt.want)
			}
			if got.Orders == nil {
				t.Errorf("orders is null, want an array")
			}
		})
	}

	for _, query := range []string{"", "?customer_id=nope", "?customer_id=" + customer + "&limit=0", "?customer_id=" + customer + "&limit=x"} {
		resp := e.do(t, http.MethodGet, "/v1/orders"+query, asOperator(t), nil)
		if resp.status != http.StatusBadRequest || resp.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET /v1/orders%s: %d %s, want 400 problem", query, resp.status, resp.body)
		}
	}
}

func TestUnsupportedMethodAnswers405(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	tests := []struct {
		method, path, wantAllow string
	}{
		{http.MethodDelete, "/v1/orders", "GET, POST"},
		{http.MethodPut, "/v1/orders/" + uuid.NewString(), "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			resp := e.do(t, tt.method, tt.path, nil, nil)
			if resp.status != http.StatusMethodNotAllowed {
				t.Fatalf("status = %d, want 405; body %s", resp.status, resp.body)
			}
			if ct := resp.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q, want application/problem+json", ct)
			}
			if allow := resp.header.Get("Allow"); allow != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", allow, tt.wantAllow)
			}
			var p web.Problem
			decodeJSON(t, resp, &p)
			if p.Status != http.StatusMethodNotAllowed {
				t.Errorf("problem status %d, want 405", p.Status)
			}
		})
	}
}
