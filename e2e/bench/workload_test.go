package bench

import (
	"encoding/json"
	"reflect"
	"testing"
)

// The same seed gives the same orders; a customer keeps its id and
// address across orders; the request body says what Placed says.
func TestWorkloadIsReproducible(t *testing.T) {
	t.Parallel()
	a := newWorkload(7, 5, 0.5, "t").orders(200)
	b := newWorkload(7, 5, 0.5, "t").orders(200)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two workloads with the same seed differ")
	}
	idOf := map[string]string{}
	for _, o := range a {
		if prev, ok := idOf[o.Email]; ok && prev != o.CustomerID {
			t.Fatalf("customer %s has ids %s and %s", o.Email, prev, o.CustomerID)
		}
		idOf[o.Email] = o.CustomerID
		var body struct {
			Customer struct{ ID, Email string } `json:"customer"`
			Items    []struct {
				SKU      string `json:"sku"`
				Quantity int    `json:"quantity"`
			} `json:"items"`
		}
		if err := json.Unmarshal(o.body, &body); err != nil {
			t.Fatal(err)
		}
		if body.Customer.ID != o.CustomerID || body.Customer.Email != o.Email || len(body.Items) != len(o.Items) {
			t.Fatalf("body %s does not match %+v", o.body, o.Placed)
		}
		for i, it := range body.Items {
			if it.SKU != o.Items[i].SKU || it.Quantity != o.Items[i].Quantity || it.Quantity < 1 {
				t.Fatalf("body item %d %+v, placed %+v", i, it, o.Items[i])
			}
		}
	}
	if len(idOf) > 5 {
		t.Errorf("%d customers, want at most 5", len(idOf))
	}
	if n := limitedWanted(a); n < 50 || n > 150 {
		t.Errorf("%d of 200 orders ask for %s with a share of 0.5", n, limitedSKU)
	}
	if n := limitedWanted(newWorkload(7, 5, 0, "t").orders(200)); n != 0 {
		t.Errorf("%d orders ask for %s with a share of 0", n, limitedSKU)
	}
}
