package status_test

import (
	"testing"

	"github.com/orderbus/orderbus/services/order/internal/status"
)

func TestCanChange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		from, to status.Status
		want     bool
	}{
		{"pending to confirmed", status.Pending, status.Confirmed, true},
		{"pending to rejected", status.Pending, status.Rejected, true},
		{"pending to pending", status.Pending, status.Pending, false},
		{"confirmed again", status.Confirmed, status.Confirmed, false},
		{"confirmed to rejected", status.Confirmed, status.Rejected, false},
		{"confirmed back to pending", status.Confirmed, status.Pending, false},
		{"rejected again", status.Rejected, status.Rejected, false},
		{"rejected to confirmed", status.Rejected, status.Confirmed, false},
		{"rejected back to pending", status.Rejected, status.Pending, false},
		{"from an unknown status", "cancelled", status.Confirmed, false},
		{"to an unknown status", status.Pending, "shipped", false},
		{"to the empty status", status.Pending, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := status.CanChange(tt.from, tt.to); got != tt.want {
				t.Errorf("CanChange(%q, %q) = %v, want %v", tt.from, tt.to, got, tt.want)
			}
		})
	}
}
