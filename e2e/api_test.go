package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
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

// phoneSeq numbers the sample customers' phones, so that each has its own
// and the SMS sent to one can be counted.
var phoneSeq atomic.Int64

// sampleOrder returns a valid order of a new customer, with a mailbox and
// a phone number of its own, for items the demo catalog has in stock
// (ESPRESSO-1KG: 100, MUG-WHITE: 200).
func sampleOrder() orderRequest {
	id := uuid.NewString()
	return orderRequest{
		Customer: customer{
			ID: id, Name: "Ada Lovelace", Email: "ada-" + id[:8] + "@example.com",
			Phone: fmt.Sprintf("+4477%08d", phoneSeq.Add(1)),
		},
		Items: []item{{SKU: "ESPRESSO-1KG", Quantity: 1}, {SKU: "MUG-WHITE", Quantity: 2}},
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
	id, err := tryPlaceOrder(t.Context(), sys, o)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// tryPlaceOrder is placeOrder returning its failure, for goroutines.
func tryPlaceOrder(ctx context.Context, sys *launcher.System, o orderRequest) (string, error) {
	body, err := json.Marshal(o)
	if err != nil {
		return "", err
	}
	resp, b, err := post(ctx, sys.OrderURL()+"/v1/orders", "application/json", body)
	if err != nil {
		return "", fmt.Errorf("POST /v1/orders: %w", err)
	}
	if resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("POST /v1/orders: %s, want 202 Accepted; body: %s", resp.Status, b)
	}
	var a accepted
	if err := json.Unmarshal(b, &a); err != nil {
		return "", fmt.Errorf("POST /v1/orders: body %s: %w", b, err)
	}
	if _, err := uuid.Parse(a.ID); err != nil {
		return "", fmt.Errorf("POST /v1/orders: id %q is not a UUID; body: %s", a.ID, b)
	}
	if a.Status == "" {
		return "", fmt.Errorf("POST /v1/orders: no status in body %s", b)
	}
	if loc := resp.Header.Get("Location"); !strings.HasSuffix(loc, "/v1/orders/"+a.ID) {
		return "", fmt.Errorf("POST /v1/orders: Location %q, want /v1/orders/%s", loc, a.ID)
	}
	return a.ID, nil
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

// orderView is the answer to GET /v1/orders/{id}.
type orderView struct {
	ID      string         `json:"id"`
	Status  string         `json:"status"`
	Items   []item         `json:"items"`
	History []historyEntry `json:"history"`
}

type historyEntry struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	Note   string    `json:"note"`
}

// Order statuses.
const (
	statusPending   = "pending"
	statusConfirmed = "confirmed"
	statusRejected  = "rejected"
)

// getOrder checks GET /v1/orders/{id} answers 200 with that order, and
// returns it.
func getOrder(t *testing.T, sys *launcher.System, id string) orderView {
	t.Helper()
	o, err := fetchOrder(t.Context(), sys, id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// fetchOrder reads GET /v1/orders/{id}; anything but 200 with that order
// and a status is an error.
func fetchOrder(ctx context.Context, sys *launcher.System, id string) (orderView, error) {
	var o orderView
	status, b, err := doJSONAuth(ctx, http.MethodGet, sys.OrderURL()+"/v1/orders/"+id, sys.OperatorToken(), nil, &o)
	if err != nil {
		return o, fmt.Errorf("GET /v1/orders/%s: %w", id, err)
	}
	if status != http.StatusOK || o.ID != id || o.Status == "" {
		return o, fmt.Errorf("GET /v1/orders/%s: %d, body %s; want 200 with the order and its status", id, status, b)
	}
	return o, nil
}

// getJSON GETs url and decodes a 2xx answer's JSON body into v; it returns
// the status code and the body as read.
func getJSON(ctx context.Context, url string, v any) (int, []byte, error) {
	return doJSON(ctx, http.MethodGet, url, nil, v)
}

// doJSON sends a request with an optional JSON body and decodes a 2xx
// answer's JSON body into v (when not nil); it returns the status code and
// the body as read.
func doJSON(ctx context.Context, method, url string, body, v any) (int, []byte, error) {
	return doJSONAuth(ctx, method, url, "", body, v)
}

// doJSONAuth is doJSON with a bearer token, when token is not empty.
func doJSONAuth(ctx context.Context, method, url, token string, body, v any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, b, err
	}
	if resp.StatusCode/100 == 2 && v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			return resp.StatusCode, b, fmt.Errorf("decode %s: %w", b, err)
		}
	}
	return resp.StatusCode, b, nil
}

// waitOrdersDecided polls the orders until none is pending any more and
// returns them by id; it fails t at the deadline, naming the orders still
// pending and the last error seen.
func waitOrdersDecided(t *testing.T, sys *launcher.System, orders map[string]orderRequest, timeout time.Duration) map[string]orderView {
	t.Helper()
	decided := make(map[string]orderView, len(orders))
	eventually(t, timeout, fmt.Sprintf("%d orders confirmed or rejected", len(orders)), func(ctx context.Context) (bool, string) {
		var lastErr error
		for id := range orders {
			if _, ok := decided[id]; ok {
				continue
			}
			o, err := fetchOrder(ctx, sys, id)
			if err != nil {
				lastErr = err
				continue
			}
			if o.Status != statusPending {
				decided[id] = o
			}
		}
		var pending []string
		for id := range orders {
			if _, ok := decided[id]; !ok {
				pending = append(pending, id)
			}
		}
		return len(pending) == 0, fmt.Sprintf("%d decided, still pending: %v (last error: %v)", len(decided), pending, lastErr)
	})
	return decided
}

// byStatus returns the ids of the orders with each status.
func byStatus(orders map[string]orderView) map[string]map[string]bool {
	ids := map[string]map[string]bool{}
	for id, o := range orders {
		if ids[o.Status] == nil {
			ids[o.Status] = map[string]bool{}
		}
		ids[o.Status][id] = true
	}
	return ids
}

// checkHistory checks o's history is pending then want, each entry with a
// time, in order, and returns the last entry.
func checkHistory(t *testing.T, o orderView, want string) historyEntry {
	t.Helper()
	var got []string
	for _, h := range o.History {
		got = append(got, h.Status)
	}
	if o.Status != want || len(o.History) != 2 || got[0] != statusPending || got[1] != want {
		t.Fatalf("order %s: status %q, history %v; want %s after [pending %s]", o.ID, o.Status, o.History, want, want)
	}
	first, last := o.History[0], o.History[1]
	if first.At.IsZero() || last.At.IsZero() || last.At.Before(first.At) {
		t.Errorf("order %s: history times %v then %v; want two times, in order", o.ID, first.At, last.At)
	}
	return last
}
