package main

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/servicetest"
	"github.com/orderbus/orderbus/pkg/web"
)

type createAnswer struct {
	ID        string    `json:"id"`
	Token     string    `json:"token"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	Links     struct {
		Self string `json:"self"`
	} `json:"links"`
}

func TestCreateOrderStoresAndPublishes(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	customer := uuid.NewString()

	resp := e.postOrder(t, orderBody(t, customer, "SKU-1", "SKU-2"), "")

	if resp.status != http.StatusAccepted {
		t.Fatalf("status = %d, want 202; body %s", resp.status, resp.body)
	}
	var got createAnswer
	decodeJSON(t, resp, &got)
	if _, err := uuid.Parse(got.ID); err != nil || got.Status != "pending" {
		t.Fatalf("answer = %+v, want a UUID id and status pending", got)
	}
	if loc := resp.header.Get("Location"); loc != "/v1/orders/"+got.ID || got.Links.Self != loc {
		t.Errorf("Location = %q, links.self = %q, want /v1/orders/%s", loc, got.Links.Self, got.ID)
	}

	var status, email string
	var items int
	err := e.db.QueryRow(context.Background(), `SELECT status, customer_email,
		(SELECT count(*) FROM order_items WHERE order_id = o.id) FROM orders o WHERE id = $1`, got.ID).
		Scan(&status, &email, &items)
	if err != nil || status != "pending" || email != "ada@example.com" || items != 2 {
		t.Errorf("stored order: status %q email %q items %d err %v, want pending, ada@example.com, 2 items", status, email, items, err)
	}

	// The handler publishes at once; the relay may have beaten it to the row.
	servicetest.WaitFor(t, 10*time.Second, "the event in ORDERS and an empty outbox", func() (bool, string) {
		msgs, pending := e.streamMsgs(t), e.count(t, "outbox")
		return msgs >= 1 && pending == 0, "stream msgs " + strconv.Itoa(int(msgs)) + ", outbox rows " + strconv.Itoa(pending)
	})
	if n := e.streamMsgs(t); n != 1 {
		t.Fatalf("ORDERS holds %d messages, want exactly 1", n)
	}
	stream, err := e.js.Stream(context.Background(), events.StreamOrders)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := stream.GetLastMsgForSubject(context.Background(), events.OrderPlacedSubject(customer))
	if err != nil {
		t.Fatalf("get message on %s: %v", events.OrderPlacedSubject(customer), err)
	}
	h := msg.Header
	for name, want := range map[string]string{
		"ce-specversion": "1.0", "ce-source": "/orderbus/order", "ce-type": events.TypeOrderPlaced,
		"ce-subject": got.ID, "Content-Type": "application/json",
	} {
		if v := h.Get(name); v != want {
			t.Errorf("header %s = %q, want %q", name, v, want)
		}
	}
	if id := h.Get("ce-id"); id == "" || h.Get("Nats-Msg-Id") != id {
		t.Errorf("ce-id %q, Nats-Msg-Id %q: want equal and set", id, h.Get("Nats-Msg-Id"))
	}
	ev, err := events.Parse(h, msg.Data)
	if err != nil {
		t.Fatalf("parse event: %v", err)
	}
	var placed events.OrderPlaced
	if err := ev.Decode(&placed); err != nil {
		t.Fatal(err)
	}
	wantItems := []events.Item{{SKU: "SKU-1", Quantity: 1}, {SKU: "SKU-2", Quantity: 2}}
	wantCustomer := events.Customer{ID: customer, Name: "Ada Lovelace", Email: "ada@example.com", Phone: "+441234567890"}
	if placed.OrderID != got.ID || placed.Customer != wantCustomer || !slices.Equal(placed.Items, wantItems) ||
		!placed.PlacedAt.Equal(got.CreatedAt) {
		t.Errorf("payload = %+v, want order %s, %+v, %+v placed at %s", placed, got.ID, wantCustomer, wantItems, got.CreatedAt)
	}

	metrics := e.do(t, http.MethodGet, "/metrics", nil, nil)
	if !strings.Contains(string(metrics.body), "orders_placed_total 1") {
		t.Errorf("/metrics lacks orders_placed_total 1")
	}
	logs := e.Logs()
	for _, personal := range []string{"ada@example.com", "+441234567890", "Lovelace"} {
		if strings.Contains(logs, personal) {
			t.Errorf("service log contains personal data %q", personal)
		}
	}
}

func TestCreateOrderRejectsInvalidRequests(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	valid := string(orderBody(t, uuid.NewString(), "SKU-1"))
	withItems := func(items string) string {
		return `{"customer":{"id":"` + uuid.NewString() + `","name":"Ann","email":"ann@example.com","phone":"+15551234567"},"items":` + items + `}`
	}
	manyItems := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = `{"sku":"SKU-` + strconv.Itoa(i) + `","quantity":1}`
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	jsonCT := map[string]string{"Content-Type": "application/json"}
	tests := []struct {
		name       string
		header     map[string]string
		body       string
		wantStatus int
		wantType   string
		wantFields []string // keys of the problem's errors, for 422
	}{
		{"malformed JSON", jsonCT, `{"customer":`, 400, web.ProblemMalformed, nil},
		{"not an object", jsonCT, `[]`, 400, web.ProblemMalformed, nil},
		{"unknown field", jsonCT, strings.Replace(valid, `"items"`, `"coupon":"X","items"`, 1), 400, web.ProblemMalformed, nil},
		{"trailing data", jsonCT, valid + `{}`, 400, web.ProblemMalformed, nil},
		{"quantity not a number", jsonCT, withItems(`[{"sku":"A1","quantity":"2"}]`), 400, web.ProblemMalformed, nil},
		{"empty object", jsonCT, `{}`, 422, web.ProblemValidation,
			[]string{"customer.email", "customer.id", "customer.name", "customer.phone", "items"}},
		{"bad customer id", jsonCT, strings.Replace(valid, `"id":"`, `"id":"x`, 1), 422, web.ProblemValidation, []string{"customer.id"}},
		{"blank name", jsonCT, strings.Replace(valid, "Ada Lovelace", "   ", 1), 422, web.ProblemValidation, []string{"customer.name"}},
		{"bad email", jsonCT, strings.Replace(valid, "ada@example.com", "ada.example.com", 1), 422, web.ProblemValidation, []string{"customer.email"}},
		{"email with display name", jsonCT, strings.Replace(valid, "ada@example.com", `Ada \u003cada@example.com\u003e`, 1), 422, web.ProblemValidation, []string{"customer.email"}},
		{"bad phone", jsonCT, strings.Replace(valid, "+441234567890", "01234 567890", 1), 422, web.ProblemValidation, []string{"customer.phone"}},
		{"bad sku", jsonCT, withItems(`[{"sku":"sku-1","quantity":1}]`), 422, web.ProblemValidation, []string{"items.0.sku"}},
		{"quantity 0", jsonCT, withItems(`[{"sku":"A1","quantity":0}]`), 422, web.ProblemValidation, []string{"items.0.quantity"}},
		{"quantity 1001", jsonCT, withItems(`[{"sku":"A1","quantity":1001}]`), 422, web.ProblemValidation, []string{"items.0.quantity"}},
		{"no items", jsonCT, withItems(`[]`), 422, web.ProblemValidation, []string{"items"}},
		{"101 items", jsonCT, withItems(manyItems(101)), 422, web.ProblemValidation, []string{"items"}},
		{"duplicate sku", jsonCT, withItems(`[{"sku":"A1","quantity":1},{"sku":"A1","quantity":2}]`), 422, web.ProblemValidation, []string{"items.1.sku"}},
		{"body over 1 MiB", jsonCT, strings.Replace(valid, "Ada Lovelace", strings.Repeat("a", 1<<20), 1), 413, web.ProblemTooLarge, nil},
		{"wrong content type", map[string]string{"Content-Type": "text/plain"}, valid, 415, web.ProblemUnsupportedMediaType, nil},
		{"no content type", nil, valid, 415, web.ProblemUnsupportedMediaType, nil},
		{"idempotency key too long", map[string]string{"Content-Type": "application/json", "Idempotency-Key": strings.Repeat("k", 256)},
			valid, 400, web.ProblemMalformed, nil},
		{"idempotency key empty", map[string]string{"Content-Type": "application/json", "Idempotency-Key": ""},
			valid, 400, web.ProblemMalformed, nil},
		{"idempotency key not printable", map[string]string{"Content-Type": "application/json", "Idempotency-Key": "kéy"},
			valid, 400, web.ProblemMalformed, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := e.do(t, http.MethodPost, "/v1/orders", tt.header, []byte(tt.body))
			if resp.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", resp.status, tt.wantStatus, resp.body)
			}
			if ct := resp.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q, want application/problem+json", ct)
			}
			var p web.Problem
			decodeJSON(t, resp, &p)
			if p.Type != tt.wantType || p.Status != tt.wantStatus {
				t.Errorf("problem type %q status %d, want %q %d", p.Type, p.Status, tt.wantType, tt.wantStatus)
			}
			var fields []string
			for f := range p.Errors {
				fields = append(fields, f)
			}
			slices.Sort(fields)
			if !slices.Equal(fields, tt.wantFields) {
				t.Errorf("problem errors %v, want fields %v", p.Errors, tt.wantFields)
			}
			for _, table := range []string{"orders", "order_items", "outbox", "idempotency_keys"} {
				if n := e.count(t, table); n != 0 {
					t.Errorf("%s holds %d rows, want 0", table, n)
				}
			}
			if n := e.streamMsgs(t); n != 0 {
				t.Errorf("ORDERS holds %d messages, want 0", n)
			}
		})
	}
}
