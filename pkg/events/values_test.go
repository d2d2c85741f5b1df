package events_test

import (
	"strings"
	"testing"

	"github.com/orderbus/orderbus/pkg/events"
)

func TestValidUUID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{name: "canonical", in: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", want: true},
		{name: "upper case", in: "0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B"},
		{name: "mixed case", in: "0190a1b2-C3D4-7e5f-8a9b-0c1d2e3f4a5b"},
		{name: "urn form", in: "urn:uuid:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"},
		{name: "braces", in: "{0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b}"},
		{name: "no dashes", in: "0190a1b2c3d47e5f8a9b0c1d2e3f4a5b"},
		{name: "not hex", in: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5g"},
		{name: "empty", in: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := events.ValidUUID(tt.in); got != tt.want {
				t.Errorf("ValidUUID(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidPhone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{name: "uk mobile", in: "+447700900961", want: true},
		{name: "shortest", in: "+12", want: true},
		{name: "longest", in: "+" + strings.Repeat("9", 15), want: true},
		{name: "too long", in: "+" + strings.Repeat("9", 16)},
		{name: "too short", in: "+1"},
		{name: "no plus", in: "447700900961"},
		{name: "leading zero", in: "+0447700900961"},
		{name: "spaces", in: "+44 7700 900961"},
		{name: "letters", in: "+44770090096a"},
		{name: "empty", in: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := events.ValidPhone(tt.in); got != tt.want {
				t.Errorf("ValidPhone(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidSKU(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{name: "catalog sku", in: "MUG-BLUE", want: true},
		{name: "digits", in: "42", want: true},
		{name: "longest", in: strings.Repeat("A", 32), want: true},
		{name: "too long", in: strings.Repeat("A", 33)},
		{name: "one character", in: "A"},
		{name: "leading dash", in: "-MUG"},
		{name: "lower case", in: "mug-blue"},
		{name: "space", in: "MUG BLUE"},
		{name: "underscore", in: "MUG_BLUE"},
		{name: "empty", in: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := events.ValidSKU(tt.in); got != tt.want {
				t.Errorf("ValidSKU(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
