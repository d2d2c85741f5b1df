package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/orderbus/orderbus/e2e/launcher"
)

// stockItem is a stock level as the inventory service shows it.
type stockItem struct {
	SKU       string `json:"sku"`
	Available int    `json:"available"`
}

// stockOf returns the available stock of sku (GET /v1/stock/{sku}).
func stockOf(ctx context.Context, sys *launcher.System, sku string) (int, error) {
	var it stockItem
	u := sys.ServiceURL("inventory") + "/v1/stock/" + sku
	status, b, err := getJSON(ctx, u, &it)
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", u, err)
	}
	if status != http.StatusOK || it.SKU != sku {
		return 0, fmt.Errorf("GET %s: %d, body %s", u, status, b)
	}
	return it.Available, nil
}

// stockLevels returns the available stock of each SKU, failing t on error.
func stockLevels(t *testing.T, sys *launcher.System, skus ...string) map[string]int {
	t.Helper()
	levels := make(map[string]int, len(skus))
	for _, sku := range skus {
		n, err := stockOf(t.Context(), sys, sku)
		if err != nil {
			t.Fatal(err)
		}
		levels[sku] = n
	}
	return levels
}

// setStock sets the available stock of sku (PUT /v1/stock/{sku}).
func setStock(t *testing.T, sys *launcher.System, sku string, n int) {
	t.Helper()
	var it stockItem
	u := sys.ServiceURL("inventory") + "/v1/stock/" + sku
	status, b, err := doJSONAuth(t.Context(), http.MethodPut, u, sys.OperatorToken(), map[string]int{"available": n}, &it)
	if err != nil {
		t.Fatalf("PUT %s: %v", u, err)
	}
	if status != http.StatusOK || it.SKU != sku || it.Available != n {
		t.Fatalf("PUT %s {available: %d}: %d, body %s; want 200 with the new level", u, n, status, b)
	}
}

// checkStock checks each SKU's stock is now what want says.
func checkStock(t *testing.T, sys *launcher.System, want map[string]int) {
	t.Helper()
	for sku, n := range want {
		got, err := stockOf(t.Context(), sys, sku)
		if err != nil {
			t.Error(err)
			continue
		}
		if got != n {
			t.Errorf("stock of %s is %d, want %d", sku, got, n)
		}
	}
}
