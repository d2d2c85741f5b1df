package main

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/web"
)

// FuzzCreateOrderRequest decodes and validates arbitrary POST /v1/orders
// bodies as the handler does (web.Decode, then newPlacement). Nothing may
// panic; a refusal is a problem with a 4xx status; an accepted body gives
// an order and event whose values pass pkg/events' rules (what every
// consumer checks again). Seeds: testdata/fuzz/FuzzCreateOrderRequest and
// f.Add.
func FuzzCreateOrderRequest(f *testing.F) {
	valid := `{"customer":{"id":"0193F1E4-1234-7000-8000-000000000001","name":"Ada Lovelace",` +
		`"email":"ada@example.com","phone":"+441234567890"},"items":[{"sku":"MUG-WHITE","quantity":2}]}`
	f.Add("application/json", []byte(valid))
	f.Add("application/json; charset=utf-8", []byte(`{"customer":{},"items":[]}`))
	f.Add("text/plain", []byte(valid))
	f.Add("application/json", []byte(valid+`{}`))
	f.Add("application/json", []byte(`{"customer":{"id":"x","name":"\u0000","email":"a@b","phone":"1"},"items":[{"sku":"a","quantity":-1}]}`))
	f.Add("application/merge-patch+json", []byte(`null`))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/v1/orders", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		req, err := web.Decode[createOrderRequest](httptest.NewRecorder(), r, maxBodyBytes)
		if err != nil {
			p, ok := errors.AsType[*web.Problem](err)
			if !ok || p.Status < 400 || p.Status > 499 {
				t.Fatalf("refusal %v is not a 4xx problem", err)
			}
			return
		}
		p, err := newPlacement(req)
		if err != nil {
			t.Fatalf("a valid request %q failed placement: %v", body, err)
		}
		c := p.Order.Customer
		if !events.ValidUUID(c.ID) || !events.ValidPhone(c.Phone) || c.Name == "" || c.Email == "" {
			t.Fatalf("accepted customer %+v breaks the event rules", c)
		}
		if len(p.Order.Items) == 0 {
			t.Fatal("accepted an order without items")
		}
		for _, it := range p.Order.Items {
			if !events.ValidSKU(it.SKU) || it.Quantity < 1 || it.Quantity > maxQuantity {
				t.Fatalf("accepted item %+v", it)
			}
		}
		if p.Subject != events.OrderPlacedSubject(c.ID) {
			t.Fatalf("subject %q for customer %q", p.Subject, c.ID)
		}
	})
}
