package events_test

import (
	"errors"
	"testing"

	"github.com/orderbus/orderbus/pkg/events"
)

func TestCheckSource(t *testing.T) {
	t.Parallel()
	tests := []struct {
		subject, source string
		ok              bool
	}{
		{events.OrderPlacedSubject("c"), "/orderbus/order", true},
		{events.OrderRejectedSubject("c"), "/orderbus/inventory", false},
		{events.InventoryReservedSubject("c"), "/orderbus/inventory", true},
		{events.InventoryReservedSubject("c"), "/orderbus/order", false},
		{events.InventoryRejectedSubject("c"), "", false},
		{events.SubjectErasureRequested, "/orderbus/gdpr", true},
		{events.SubjectErasureRequested, "/orderbus/order", false},
		{events.ErasureCompletedSubject("sms"), "/orderbus/sms", true},
		{events.ErasureCompletedSubject("sms"), "/orderbus/email", false},
		{events.ErasureCompletedSubject("billing"), "/orderbus/billing", true},
		{events.SubjectErasureVerify, "/orderbus/gdpr", true},
		{events.SubjectErasureVerify, "/orderbus/sms", false},
		{events.ErasureVerifiedSubject("email"), "/orderbus/email", true},
		{events.ErasureVerifiedSubject("email"), "/orderbus/gdpr", false},
		{events.DLQSubject("email", "orders.placed.c"), "/orderbus/order", false},
		{"orders.placed", "/orderbus/order", false},
	}
	for _, tt := range tests {
		err := events.CheckSource(tt.subject, tt.source)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, events.ErrForeignSource)) {
			t.Errorf("CheckSource(%q, %q) = %v, want ok %v", tt.subject, tt.source, err, tt.ok)
		}
	}
}

// TestCatalogueCoversStreams checks that every stream is managed by
// someone and every durable reads a known stream.
func TestCatalogueCoversStreams(t *testing.T) {
	t.Parallel()
	managed := map[string]bool{}
	for _, s := range events.Services() {
		for _, m := range s.Manages {
			managed[m] = true
		}
		for _, d := range s.Consumers {
			if len(d.Filters) == 0 || d.Durable == "" {
				t.Errorf("%s: durable %+v without a name or filters", s.Name, d)
			}
		}
		if events.ManagedBy(s.Name) == nil {
			t.Errorf("ManagedBy(%s) is nil", s.Name)
		}
	}
	for _, c := range events.Streams(events.DefaultRetention()) {
		if !managed[c.Name] {
			t.Errorf("no service manages stream %s", c.Name)
		}
	}
	if got := events.ManagedBy("nobody"); got == nil || len(got) != 0 {
		t.Errorf("ManagedBy(nobody) = %#v, want empty, not nil", got)
	}
}
