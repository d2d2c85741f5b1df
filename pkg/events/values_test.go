package events_test

import (
	"strings"
	"testing"

	"github.com/orderbus/orderbus/pkg/events"
)

func TestValueRules(t *testing.T) {
	t.Parallel()
	const (
		uuid  = "ValidUUID"
		phone = "ValidPhone"
		sku   = "ValidSKU"
	)
	rules := map[string]func(string) bool{uuid: events.ValidUUID, phone: events.ValidPhone, sku: events.ValidSKU}
	tests := []struct {
		rule, name, in string
		want           bool
	}{
		{uuid, "canonical", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", true},
		{uuid, "upper case", "0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B", false},
		{uuid, "mixed case", "0190a1b2-C3D4-7e5f-8a9b-0c1d2e3f4a5b", false},
		{uuid, "urn form", "urn:uuid:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", false},
		{uuid, "braces", "{0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b}", false},
		{uuid, "no dashes", "0190a1b2c3d47e5f8a9b0c1d2e3f4a5b", false},
		{uuid, "not hex", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5g", false},
		{uuid, "empty", "", false},

		{phone, "uk mobile", "+447700900961", true},
		{phone, "shortest", "+12", true},
		{phone, "longest", "+" + strings.Repeat("9", 15), true},
		{phone, "too long", "+" + strings.Repeat("9", 16), false},
		{phone, "too short", "+1", false},
		{phone, "plus alone", "+", false},
		{phone, "no plus", "447700900961", false},
		{phone, "leading zero", "+0447700900961", false},
		{phone, "spaces", "+44 7700 900961", false},
		{phone, "letters", "+44770090096a", false},
		{phone, "empty", "", false},

		{sku, "catalog sku", "MUG-BLUE", true},
		{sku, "digits", "42", true},
		{sku, "longest", strings.Repeat("A", events.MaxSKULength), true},
		{sku, "too long", strings.Repeat("A", events.MaxSKULength+1), false},
		{sku, "one character", "A", false},
		{sku, "leading dash", "-MUG", false},
		{sku, "lower case", "mug-blue", false},
		{sku, "space", "MUG BLUE", false},
		{sku, "underscore", "MUG_BLUE", false},
		{sku, "empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.rule+"/"+tt.name, func(t *testing.T) {
			t.Parallel()
			if got := rules[tt.rule](tt.in); got != tt.want {
				t.Errorf("%s(%q) = %v, want %v", tt.rule, tt.in, got, tt.want)
			}
		})
	}
}
