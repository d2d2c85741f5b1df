package main

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestCreateOrderRequestValid(t *testing.T) {
	t.Parallel()
	valid := func() createOrderRequest {
		return createOrderRequest{
			Customer: customerRequest{
				ID: "0190a9e4-7a10-7c6e-9c4d-3f1e2b8a9d01", Name: "Ann Example",
				Email: "ann@example.com", Phone: "+4915112345678",
			},
			Items: []itemRequest{{SKU: "SKU-1", Quantity: 1}, {SKU: "A1", Quantity: 1000}},
		}
	}
	items := func(n int) []itemRequest {
		out := make([]itemRequest, n)
		for i := range out {
			out[i] = itemRequest{SKU: "SKU-" + strconv.Itoa(i), Quantity: 1}
		}
		return out
	}
	tests := []struct {
		name   string
		change func(*createOrderRequest)
		want   []string // fields with problems
	}{
		{"valid", func(*createOrderRequest) {}, nil},
		{"100 items", func(r *createOrderRequest) { r.Items = items(100) }, nil},
		{"name of 200 runes", func(r *createOrderRequest) { r.Customer.Name = strings.Repeat("é", 200) }, nil},
		{"shortest phone", func(r *createOrderRequest) { r.Customer.Phone = "+12" }, nil},
		{"longest phone", func(r *createOrderRequest) { r.Customer.Phone = "+123456789012345" }, nil},
		{"sku of 32", func(r *createOrderRequest) { r.Items[0].SKU = "A" + strings.Repeat("-", 31) }, nil},
		{"upper-case uuid", func(r *createOrderRequest) { r.Customer.ID = strings.ToUpper(r.Customer.ID) }, nil},
		{"zero value", func(r *createOrderRequest) { *r = createOrderRequest{} },
			[]string{"customer.email", "customer.id", "customer.name", "customer.phone", "items"}},
		{"id not uuid", func(r *createOrderRequest) { r.Customer.ID = "42" }, []string{"customer.id"}},
		{"id braces", func(r *createOrderRequest) { r.Customer.ID = "{" + r.Customer.ID + "}" }, []string{"customer.id"}},
		{"id without hyphens", func(r *createOrderRequest) { r.Customer.ID = strings.ReplaceAll(r.Customer.ID, "-", "") }, []string{"customer.id"}},
		{"nil uuid", func(r *createOrderRequest) { r.Customer.ID = "00000000-0000-0000-0000-000000000000" }, []string{"customer.id"}},
		{"blank name", func(r *createOrderRequest) { r.Customer.Name = " \t " }, []string{"customer.name"}},
		{"name of 201 runes", func(r *createOrderRequest) { r.Customer.Name = strings.Repeat("é", 201) }, []string{"customer.name"}},
		{"name with newline", func(r *createOrderRequest) { r.Customer.Name = "Ann\nBcc: x" }, []string{"customer.name"}},
		{"email without at", func(r *createOrderRequest) { r.Customer.Email = "ann.example.com" }, []string{"customer.email"}},
		{"email with name", func(r *createOrderRequest) { r.Customer.Email = "Ann <ann@example.com>" }, []string{"customer.email"}},
		{"email in brackets", func(r *createOrderRequest) { r.Customer.Email = "<ann@example.com>" }, []string{"customer.email"}},
		{"email with spaces", func(r *createOrderRequest) { r.Customer.Email = " ann@example.com" }, []string{"customer.email"}},
		{"email too long", func(r *createOrderRequest) { r.Customer.Email = strings.Repeat("a", 250) + "@x.io" }, []string{"customer.email"}},
		{"phone without plus", func(r *createOrderRequest) { r.Customer.Phone = "4915112345678" }, []string{"customer.phone"}},
		{"phone leading zero", func(r *createOrderRequest) { r.Customer.Phone = "+0915112345678" }, []string{"customer.phone"}},
		{"phone too short", func(r *createOrderRequest) { r.Customer.Phone = "+1" }, []string{"customer.phone"}},
		{"phone too long", func(r *createOrderRequest) { r.Customer.Phone = "+1234567890123456" }, []string{"customer.phone"}},
		{"phone with space", func(r *createOrderRequest) { r.Customer.Phone = "+49 151 12345678" }, []string{"customer.phone"}},
		{"no items", func(r *createOrderRequest) { r.Items = nil }, []string{"items"}},
		{"101 items", func(r *createOrderRequest) { r.Items = items(101) }, []string{"items"}},
		{"sku lower case", func(r *createOrderRequest) { r.Items[0].SKU = "sku-1" }, []string{"items.0.sku"}},
		{"sku one char", func(r *createOrderRequest) { r.Items[0].SKU = "A" }, []string{"items.0.sku"}},
		{"sku of 33", func(r *createOrderRequest) { r.Items[0].SKU = strings.Repeat("A", 33) }, []string{"items.0.sku"}},
		{"sku leading hyphen", func(r *createOrderRequest) { r.Items[1].SKU = "-A1" }, []string{"items.1.sku"}},
		{"sku with dot", func(r *createOrderRequest) { r.Items[1].SKU = "A.1" }, []string{"items.1.sku"}},
		{"duplicate sku", func(r *createOrderRequest) { r.Items[1].SKU = r.Items[0].SKU }, []string{"items.1.sku"}},
		{"quantity 0", func(r *createOrderRequest) { r.Items[0].Quantity = 0 }, []string{"items.0.quantity"}},
		{"quantity negative", func(r *createOrderRequest) { r.Items[0].Quantity = -1 }, []string{"items.0.quantity"}},
		{"quantity 1001", func(r *createOrderRequest) { r.Items[1].Quantity = 1001 }, []string{"items.1.quantity"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := valid()
			tt.change(&req)
			problems := req.Valid()
			got := slices.Sorted(maps.Keys(problems))
			if !slices.Equal(got, tt.want) {
				t.Errorf("Valid() = %v, want problems in %v", problems, tt.want)
			}
			for field, msg := range problems {
				if msg == "" {
					t.Errorf("%s: empty problem text", field)
				}
			}
		})
	}
}
