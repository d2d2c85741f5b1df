package main

import (
	"strings"
	"testing"
)

func TestMessageIDLocalPart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, id string
		keep     bool
	}{
		{name: "uuid kept", id: "0195f0a8-1234-7000-8000-000000000001", keep: true},
		{name: "dotted kept", id: "evt.1", keep: true},
		{name: "at sign hashed", id: "a@b"},
		{name: "angle brackets hashed", id: "<x>"},
		{name: "space hashed", id: "a b"},
		{name: "leading dot hashed", id: ".a"},
		{name: "empty hashed", id: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := messageIDLocalPart(tt.id)
			if tt.keep && got != tt.id {
				t.Errorf("messageIDLocalPart(%q) = %q, want it unchanged", tt.id, got)
			}
			if !tt.keep && (got == tt.id || !strings.HasPrefix(got, "h.") || got != messageIDLocalPart(tt.id)) {
				t.Errorf("messageIDLocalPart(%q) = %q, want a deterministic h.<hash>", tt.id, got)
			}
		})
	}
}
