package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/orderbus/orderbus/e2e/launcher"
)

// orderRequest is the body of POST /v1/orders.
type orderRequest struct {
	Customer customer `json:"customer"`
	Items    []item   `json:"items"`
}

type customer struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone"`
}

type item struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// sampleOrder returns a valid order of a new customer, with a mailbox of
// its own, for items of the demo catalog.
func sampleOrder() orderRequest {
	id := uuid.NewString()
	return orderRequest{
		Customer: customer{ID: id, Name: "Ada Lovelace", Email: "ada-" + id[:8] + "@example.com", Phone: "+442071838750"},
		Items:    []item{{SKU: "ESPRESSO-1KG", Quantity: 1}, {SKU: "MUG-WHITE", Quantity: 2}},
	}
}

// accepted is the 202 answer to POST /v1/orders.
type accepted struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

var httpClient = &http.Client{Timeout: 15 * time.Second}

// post sends body to url and returns the response with its body read.
func post(ctx context.Context, url, contentType string, body []byte) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// placeOrder posts o and checks the answer is 202 Accepted with the new
// order's id in the body and in Location; it returns the id.
func placeOrder(t *testing.T, sys *launcher.System, o orderRequest) string {
	t.Helper()
	body, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	resp, b, err := post(t.Context(), sys.OrderURL()+"/v1/orders", "application/json", body)
	if err != nil {
		t.Fatalf("POST /v1/orders: %v", err)
	}
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /v1/orders: %s, want 202 Accepted; body: %s", resp.Status, b)
	}
	var a accepted
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("POST /v1/orders: body %s: %v", b, err)
	}
	if _, err := uuid.Parse(a.ID); err != nil {
		t.Fatalf("POST /v1/orders: id %q is not a UUID; body: %s", a.ID, b)
	}
	if a.Status == "" {
		t.Errorf("POST /v1/orders: no status in body %s", b)
	}
	if loc := resp.Header.Get("Location"); !strings.HasSuffix(loc, "/v1/orders/"+a.ID) {
		t.Errorf("POST /v1/orders: Location %q, want /v1/orders/%s", loc, a.ID)
	}
	return a.ID
}

// placeOrders places n sample orders and returns them by order id.
func placeOrders(t *testing.T, sys *launcher.System, n int) map[string]orderRequest {
	t.Helper()
	orders := make(map[string]orderRequest, n)
	for range n {
		o := sampleOrder()
		orders[placeOrder(t, sys, o)] = o
	}
	return orders
}

// getOrder checks GET /v1/orders/{id} answers 200 with that order.
func getOrder(t *testing.T, sys *launcher.System, id string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, sys.OrderURL()+"/v1/orders/"+id, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("GET /v1/orders/%s: %v", id, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/orders/%s: %s, want 200; body: %s", id, resp.Status, b)
	}
	var got struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(b, &got); err != nil || got.ID != id || got.Status == "" {
		t.Fatalf("GET /v1/orders/%s: body %s (%v), want the order with its status", id, b, err)
	}
}
