package web

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type testItem struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

type testOrder struct {
	CustomerID string     `json:"customer_id"`
	Items      []testItem `json:"items"`
}

func (o testOrder) Valid() map[string]string {
	errs := map[string]string{}
	if o.CustomerID == "" {
		errs["customer_id"] = "is required"
	}
	if len(o.Items) == 0 {
		errs["items"] = "must hold at least one item"
	}
	for i, it := range o.Items {
		if it.Quantity < 1 {
			errs[fmt.Sprintf("items.%d.quantity", i)] = "must be at least 1"
		}
	}
	return errs
}

// testPtrOrder validates with a pointer receiver, which Decode must find too.
type testPtrOrder struct {
	Name string `json:"name"`
}

func (o *testPtrOrder) Valid() map[string]string {
	if o.Name == "" {
		return map[string]string{"name": "is required"}
	}
	return nil
}

func decodeHandler[T any](limit int64, got *T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := Decode[T](w, r, limit)
		if err != nil {
			WriteError(w, r, slog.New(slog.DiscardHandler), err)
			return
		}
		*got = v
		Encode(w, http.StatusOK, v)
	})
}

func TestDecode(t *testing.T) {
	t.Parallel()
	const valid = `{"customer_id":"c1","items":[{"sku":"sku-1","quantity":2}]}`
	tests := []struct {
		name        string
		contentType string
		body        string
		limit       int64
		wantStatus  int
		wantType    string
		wantDetail  string   // substring of the problem's detail
		wantErrors  []string // keys of the problem's errors
	}{
		{name: "valid", contentType: "application/json", body: valid, wantStatus: 200},
		{name: "valid with charset", contentType: "application/json; charset=utf-8", body: valid, wantStatus: 200},
		{name: "valid +json type", contentType: "application/merge-patch+json", body: valid, wantStatus: 200},
		{name: "trailing whitespace is fine", contentType: "application/json", body: valid + "\n\n  ", wantStatus: 200},
		{name: "no content type", body: valid, wantStatus: 415, wantType: ProblemUnsupportedMediaType, wantDetail: "application/json"},
		{name: "text content type", contentType: "text/plain", body: valid, wantStatus: 415, wantType: ProblemUnsupportedMediaType},
		{name: "form content type", contentType: "application/x-www-form-urlencoded", body: "a=b", wantStatus: 415, wantType: ProblemUnsupportedMediaType},
		{name: "garbled content type", contentType: "application/json; =", body: valid, wantStatus: 415, wantType: ProblemUnsupportedMediaType},
		{name: "empty body", contentType: "application/json", body: "", wantStatus: 400, wantType: ProblemMalformed, wantDetail: "empty"},
		{name: "whitespace body", contentType: "application/json", body: "  \n", wantStatus: 400, wantType: ProblemMalformed, wantDetail: "empty"},
		{name: "truncated JSON", contentType: "application/json", body: `{"customer_id":`, wantStatus: 400, wantType: ProblemMalformed, wantDetail: "ends in the middle"},
		{name: "syntax error", contentType: "application/json", body: `{"customer_id" "c1"}`, wantStatus: 400, wantType: ProblemMalformed, wantDetail: "at byte 16"},
		{name: "unknown field", contentType: "application/json", body: `{"customer_id":"c1","items":[],"coupon":"x"}`, wantStatus: 400, wantType: ProblemMalformed, wantDetail: `"coupon"`},
		{name: "wrong field type", contentType: "application/json", body: `{"customer_id":"c1","items":[{"sku":"a","quantity":"two"}]}`, wantStatus: 400, wantType: ProblemMalformed, wantDetail: `Field "items.quantity" must be a JSON number, not string`},
		{name: "wrong top-level type", contentType: "application/json", body: `[1,2]`, wantStatus: 400, wantType: ProblemMalformed, wantDetail: "must be a JSON object"},
		{name: "second value", contentType: "application/json", body: valid + valid, wantStatus: 400, wantType: ProblemMalformed, wantDetail: "single JSON value"},
		{name: "trailing garbage", contentType: "application/json", body: valid + " x", wantStatus: 400, wantType: ProblemMalformed, wantDetail: "single JSON value"},
		{name: "over limit", contentType: "application/json", body: valid, limit: 20, wantStatus: 413, wantType: ProblemTooLarge, wantDetail: "20 bytes"},
		{name: "trailing data over limit", contentType: "application/json", body: valid + strings.Repeat(" ", 10) + "{}", limit: int64(len(valid) + 5), wantStatus: 413, wantType: ProblemTooLarge},
		{name: "invalid fields", contentType: "application/json", body: `{"items":[{"sku":"a","quantity":0}]}`, wantStatus: 422, wantType: ProblemValidation, wantErrors: []string{"customer_id", "items.0.quantity"}},
		{name: "null is validated", contentType: "application/json", body: `null`, wantStatus: 422, wantType: ProblemValidation, wantErrors: []string{"customer_id", "items"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			limit := tt.limit
			if limit == 0 {
				limit = 1 << 20
			}
			var got testOrder
			resp := do(t, decodeHandler(limit, &got), tt.contentType, tt.body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.wantStatus, resp.body)
			}
			if tt.wantStatus == 200 {
				if got.CustomerID != "c1" || len(got.Items) != 1 || got.Items[0].Quantity != 2 {
					t.Fatalf("decoded %+v", got)
				}
				return
			}
			p := resp.problem(t)
			if p.Type != tt.wantType || p.Status != tt.wantStatus {
				t.Errorf("problem type, status = %q, %d; want %q, %d", p.Type, p.Status, tt.wantType, tt.wantStatus)
			}
			if !strings.Contains(p.Detail, tt.wantDetail) {
				t.Errorf("detail = %q, want it to contain %q", p.Detail, tt.wantDetail)
			}
			if len(p.Errors) != len(tt.wantErrors) {
				t.Errorf("errors = %v, want keys %v", p.Errors, tt.wantErrors)
			}
			for _, k := range tt.wantErrors {
				if p.Errors[k] == "" {
					t.Errorf("errors = %v, want key %q", p.Errors, k)
				}
			}
		})
	}
}

func TestDecodePointerReceiverValidator(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		body       string
		wantStatus int
	}{
		{name: "valid", body: `{"name":"x"}`, wantStatus: 200},
		{name: "invalid", body: `{"name":""}`, wantStatus: 422},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got testPtrOrder
			resp := do(t, decodeHandler(1024, &got), "application/json", tt.body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.wantStatus, resp.body)
			}
		})
	}
}

func TestDecodeNullIntoPointer(t *testing.T) {
	t.Parallel()
	var got *testPtrOrder
	resp := do(t, decodeHandler(1024, &got), "application/json", "null")
	if resp.StatusCode != 400 || resp.problem(t).Type != ProblemMalformed {
		t.Fatalf("status = %d, body %s; want a 400 malformed problem", resp.StatusCode, resp.body)
	}
}

func TestEncode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		value       any
		wantStatus  int
		wantType    string
		wantBodyHas string
	}{
		{name: "object", value: map[string]int{"n": 1}, wantStatus: 201, wantType: "application/json", wantBodyHas: `{"n":1}`},
		{name: "unencodable", value: map[string]any{"f": func() {}}, wantStatus: 500, wantType: "application/problem+json", wantBodyHas: ProblemInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			Encode(rec, 201, tt.value)
			if rec.Code != tt.wantStatus || rec.Header().Get("Content-Type") != tt.wantType {
				t.Fatalf("status %d, content type %q; want %d, %q", rec.Code, rec.Header().Get("Content-Type"), tt.wantStatus, tt.wantType)
			}
			if !strings.Contains(rec.Body.String(), tt.wantBodyHas) {
				t.Fatalf("body %q lacks %q", rec.Body.String(), tt.wantBodyHas)
			}
		})
	}
}

type response struct {
	*http.Response
	body []byte
}

// problem decodes the response as a problem, failing unless its content
// type is application/problem+json.
func (r response) problem(t *testing.T) Problem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type = %q, want application/problem+json", ct)
	}
	var p Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("decode problem %s: %v", r.body, err)
	}
	return p
}

// do sends a POST with body through h on a real test server.
func do(t *testing.T, h http.Handler, contentType, body string) response {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/v1/orders", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Response: resp, body: b}
}
