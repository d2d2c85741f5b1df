package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/web"
)

func TestListStock(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	code, body := e.do(http.MethodGet, "/v1/stock", "")
	if code != http.StatusOK {
		t.Fatalf("GET /v1/stock = %d %s", code, body)
	}
	var got struct{ Stock []StockItem }
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	skus := make([]string, len(got.Stock))
	bySKU := map[string]StockItem{}
	for i, it := range got.Stock {
		skus[i] = it.SKU
		bySKU[it.SKU] = it
		if it.UpdatedAt.IsZero() || time.Since(it.UpdatedAt) > time.Hour {
			t.Errorf("%s updated_at = %s, want the migration's time", it.SKU, it.UpdatedAt)
		}
	}
	if !slices.IsSorted(skus) {
		t.Errorf("SKUs not sorted: %q", skus)
	}
	for _, want := range []StockItem{
		{SKU: "ESPRESSO-1KG", Name: "Espresso beans, 1 kg", Available: 100},
		{SKU: "MUG-WHITE", Name: "White mug", Available: 200},
		{SKU: "FILTER-PAPER-100", Name: "Filter papers, 100", Available: 500},
		{SKU: "GRINDER-HAND", Name: "Hand grinder", Available: 20},
		{SKU: "KETTLE-GOOSENECK", Name: "Gooseneck kettle", Available: 15},
		{SKU: "TEA-SENCHA-250G", Name: "Sencha tea, 250 g", Available: 50},
	} {
		it, ok := bySKU[want.SKU]
		if !ok || it.Name != want.Name || it.Available != want.Available {
			t.Errorf("demo catalog has %s = %+v, want %+v", want.SKU, it, want)
		}
	}
}

func TestStockItemEndpoints(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	type request struct{ method, path, body string } // "{sku}" in path is the case's fresh SKU
	tests := []struct {
		name       string
		setup      []request // sent first, each must answer 200
		req        request
		wantStatus int
		want       *StockItem // the item answered (UpdatedAt ignored); "{sku}" as SKU is the fresh SKU
		wantType   string     // problem type, for errors
		wantFields []string   // problem errors keys
		wantAfter  int        // the fresh SKU's level after the request; -1 = not in the catalog
	}{
		{name: "get demo sku", req: request{"GET", "/v1/stock/GRINDER-HAND", ""}, wantStatus: 200,
			want: &StockItem{SKU: "GRINDER-HAND", Name: "Hand grinder", Available: 20}, wantAfter: -1},
		{name: "get unknown sku", req: request{"GET", "/v1/stock/{sku}", ""}, wantStatus: 404,
			wantType: web.ProblemNotFound, wantAfter: -1},
		{name: "get invalid sku", req: request{"GET", "/v1/stock/mug-white", ""}, wantStatus: 404,
			wantType: web.ProblemNotFound, wantAfter: -1},
		{name: "put creates", req: request{"PUT", "/v1/stock/{sku}", `{"available": 7, "name": "  Milk jug "}`},
			wantStatus: 200, want: &StockItem{SKU: "{sku}", Name: "Milk jug", Available: 7}, wantAfter: 7},
		{name: "put creates without a name", req: request{"PUT", "/v1/stock/{sku}", `{"available": 0}`},
			wantStatus: 200, want: &StockItem{SKU: "{sku}", Name: "", Available: 0}, wantAfter: 0},
		{name: "put sets the level and keeps the name",
			setup:      []request{{"PUT", "/v1/stock/{sku}", `{"available": 3, "name": "Milk jug"}`}},
			req:        request{"PUT", "/v1/stock/{sku}", `{"available": 1000000}`},
			wantStatus: 200, want: &StockItem{SKU: "{sku}", Name: "Milk jug", Available: 1000000}, wantAfter: 1000000},
		{name: "put renames",
			setup:      []request{{"PUT", "/v1/stock/{sku}", `{"available": 3, "name": "Milk jug"}`}},
			req:        request{"PUT", "/v1/stock/{sku}", `{"available": 4, "name": "Milk jug, 350 ml"}`},
			wantStatus: 200, want: &StockItem{SKU: "{sku}", Name: "Milk jug, 350 ml", Available: 4}, wantAfter: 4},
		{name: "get after put",
			setup:      []request{{"PUT", "/v1/stock/{sku}", `{"available": 9, "name": "Tamper"}`}},
			req:        request{"GET", "/v1/stock/{sku}", ""},
			wantStatus: 200, want: &StockItem{SKU: "{sku}", Name: "Tamper", Available: 9}, wantAfter: 9},
		{name: "negative level",
			setup:      []request{{"PUT", "/v1/stock/{sku}", `{"available": 3}`}},
			req:        request{"PUT", "/v1/stock/{sku}", `{"available": -1}`},
			wantStatus: 422, wantType: web.ProblemValidation, wantFields: []string{"available"}, wantAfter: 3},
		{name: "level over a million", req: request{"PUT", "/v1/stock/{sku}", `{"available": 1000001}`},
			wantStatus: 422, wantType: web.ProblemValidation, wantFields: []string{"available"}, wantAfter: -1},
		{name: "level missing, blank name", req: request{"PUT", "/v1/stock/{sku}", `{"name": " "}`},
			wantStatus: 422, wantType: web.ProblemValidation, wantFields: []string{"available", "name"}, wantAfter: -1},
		{name: "name too long", req: request{"PUT", "/v1/stock/{sku}", `{"available": 1, "name": "` + strings.Repeat("x", 201) + `"}`},
			wantStatus: 422, wantType: web.ProblemValidation, wantFields: []string{"name"}, wantAfter: -1},
		{name: "lower-case sku", req: request{"PUT", "/v1/stock/mug-blue", `{"available": 1}`},
			wantStatus: 400, wantType: web.ProblemMalformed, wantFields: []string{"sku"}, wantAfter: -1},
		{name: "sku too long", req: request{"PUT", "/v1/stock/" + strings.Repeat("A", 33), `{"available": 1}`},
			wantStatus: 400, wantType: web.ProblemMalformed, wantFields: []string{"sku"}, wantAfter: -1},
		{name: "sku starting with a dash", req: request{"PUT", "/v1/stock/-MUG", `{"available": 1}`},
			wantStatus: 400, wantType: web.ProblemMalformed, wantFields: []string{"sku"}, wantAfter: -1},
		{name: "level not a whole number", req: request{"PUT", "/v1/stock/{sku}", `{"available": 1.5}`},
			wantStatus: 400, wantType: web.ProblemMalformed, wantAfter: -1},
		{name: "level as a string", req: request{"PUT", "/v1/stock/{sku}", `{"available": "5"}`},
			wantStatus: 400, wantType: web.ProblemMalformed, wantAfter: -1},
		{name: "unknown field", req: request{"PUT", "/v1/stock/{sku}", `{"available": 5, "reserved": 1}`},
			wantStatus: 400, wantType: web.ProblemMalformed, wantAfter: -1},
		{name: "malformed json", req: request{"PUT", "/v1/stock/{sku}", `{"available": `},
			wantStatus: 400, wantType: web.ProblemMalformed, wantAfter: -1},
		{name: "no body", req: request{"PUT", "/v1/stock/{sku}", ""},
			wantStatus: 415, wantType: web.ProblemUnsupportedMediaType, wantAfter: -1},
		{name: "post not allowed", req: request{"POST", "/v1/stock", `{}`}, wantStatus: 405, wantType: "about:blank", wantAfter: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sku := newSKU("H")
			send := func(r request) (int, string) {
				return e.do(r.method, strings.ReplaceAll(r.path, "{sku}", sku), r.body)
			}
			for _, r := range tt.setup {
				if code, body := send(r); code != http.StatusOK {
					t.Fatalf("setup %s %s = %d %s", r.method, r.path, code, body)
				}
			}
			code, body := send(tt.req)
			if code != tt.wantStatus {
				t.Fatalf("%s %s = %d %s, want %d", tt.req.method, tt.req.path, code, body, tt.wantStatus)
			}
			if tt.want != nil {
				var got StockItem
				if err := json.Unmarshal([]byte(body), &got); err != nil {
					t.Fatalf("decode %s: %v", body, err)
				}
				want := *tt.want
				want.SKU = strings.ReplaceAll(want.SKU, "{sku}", sku)
				if got.SKU != want.SKU || got.Name != want.Name || got.Available != want.Available || got.UpdatedAt.IsZero() {
					t.Errorf("item = %+v, want %+v with updated_at", got, want)
				}
			} else {
				var p web.Problem
				if err := json.Unmarshal([]byte(body), &p); err != nil {
					t.Fatalf("decode problem %s: %v", body, err)
				}
				var fields []string
				for f := range p.Errors {
					fields = append(fields, f)
				}
				slices.Sort(fields)
				if p.Type != tt.wantType || p.Status != tt.wantStatus || !slices.Equal(fields, tt.wantFields) {
					t.Errorf("problem = %+v, want type %q status %d fields %v", p, tt.wantType, tt.wantStatus, tt.wantFields)
				}
			}
			if got := e.level(t, sku); got != tt.wantAfter {
				t.Errorf("level of the case's SKU = %d after the request, want %d", got, tt.wantAfter)
			}
		})
	}
}
