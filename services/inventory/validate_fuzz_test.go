package main

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/orderbus/orderbus/pkg/web"
)

// FuzzSetStockRequest decodes and validates arbitrary PUT /v1/stock/{sku}
// bodies as the handler does (web.Decode with setStockRequest.Valid).
// Nothing may panic; a refusal is a 4xx problem; an accepted body has a
// level in range and, if any, a name that is not blank and not too long.
// Seeds: testdata/fuzz/FuzzSetStockRequest and f.Add.
func FuzzSetStockRequest(f *testing.F) {
	f.Add("application/json", []byte(`{"available": 7, "name": "  Milk jug "}`))
	f.Add("application/json", []byte(`{"available": 0}`))
	f.Add("application/json", []byte(`{"available": -1}`))
	f.Add("application/json", []byte(`{"available": 1.5}`))
	f.Add("application/json", []byte(`{"available": "5"}`))
	f.Add("application/json", []byte(`{"name": " "}`))
	f.Add("text/plain", []byte(`{"available": 1}`))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		r := httptest.NewRequest(http.MethodPut, "/v1/stock/MUG-WHITE", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		req, err := web.Decode[setStockRequest](httptest.NewRecorder(), r, maxBodyBytes)
		if err != nil {
			p, ok := errors.AsType[*web.Problem](err)
			if !ok || p.Status < 400 || p.Status > 499 {
				t.Fatalf("refusal %v is not a 4xx problem", err)
			}
			return
		}
		if req.Available == nil || *req.Available < 0 || *req.Available > maxAvailable {
			t.Fatalf("accepted level %v", req.Available)
		}
		if req.Name != nil && (strings.TrimSpace(*req.Name) == "" || utf8.RuneCountInString(*req.Name) > maxNameRunes) {
			t.Fatalf("accepted name %q", *req.Name)
		}
	})
}
