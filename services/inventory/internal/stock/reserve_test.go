package stock

import (
	"errors"
	"math"
	"slices"
	"testing"
)

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		lines   []Line
		want    []Line
		wantErr bool
	}{
		{name: "sorted by sku", lines: []Line{{"MUG-WHITE", 2}, {"ESPRESSO-1KG", 1}},
			want: []Line{{"ESPRESSO-1KG", 1}, {"MUG-WHITE", 2}}},
		{name: "same sku merged", lines: []Line{{"MUG-WHITE", 2}, {"ESPRESSO-1KG", 1}, {"MUG-WHITE", 3}},
			want: []Line{{"ESPRESSO-1KG", 1}, {"MUG-WHITE", 5}}},
		{name: "odd sku kept", lines: []Line{{"not a sku", 1}}, want: []Line{{"not a sku", 1}}},
		{name: "largest quantity", lines: []Line{{"A1", math.MaxInt32}}, want: []Line{{"A1", math.MaxInt32}}},
		{name: "no lines", lines: nil, wantErr: true},
		{name: "empty sku", lines: []Line{{"A1", 1}, {"", 1}}, wantErr: true},
		{name: "zero quantity", lines: []Line{{"A1", 0}}, wantErr: true},
		{name: "negative quantity", lines: []Line{{"A1", 3}, {"B2", -1}}, wantErr: true},
		{name: "quantity too large", lines: []Line{{"A1", math.MaxInt32 + 1}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Normalize(tt.lines)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidOrder) {
					t.Fatalf("Normalize(%v) error = %v, want ErrInvalidOrder", tt.lines, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Normalize(%v): %v", tt.lines, err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Normalize(%v) = %v, want %v", tt.lines, got, tt.want)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	available := map[string]int{"ESPRESSO-1KG": 100, "MUG-WHITE": 2, "GRINDER-HAND": 0}
	tests := []struct {
		name        string
		lines       []Line
		wantReserve bool
		wantMissing []string
	}{
		{name: "all in stock", lines: []Line{{"ESPRESSO-1KG", 1}, {"MUG-WHITE", 2}}, wantReserve: true, wantMissing: []string{}},
		{name: "exactly the stock left", lines: []Line{{"ESPRESSO-1KG", 100}}, wantReserve: true, wantMissing: []string{}},
		{name: "one line over stock", lines: []Line{{"ESPRESSO-1KG", 1}, {"MUG-WHITE", 3}}, wantMissing: []string{"MUG-WHITE"}},
		{name: "out of stock", lines: []Line{{"GRINDER-HAND", 1}}, wantMissing: []string{"GRINDER-HAND"}},
		{name: "unknown sku", lines: []Line{{"ESPRESSO-1KG", 1}, {"TEAPOT-RED", 1}}, wantMissing: []string{"TEAPOT-RED"}},
		{name: "several missing, sorted", lines: []Line{{"ESPRESSO-1KG", 101}, {"GRINDER-HAND", 1}, {"ZZ-UNKNOWN", 1}},
			wantMissing: []string{"ESPRESSO-1KG", "GRINDER-HAND", "ZZ-UNKNOWN"}},
		{name: "merged lines over stock", lines: []Line{{"MUG-WHITE", 2}, {"MUG-WHITE", 1}}, wantMissing: []string{"MUG-WHITE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lines, err := Normalize(tt.lines)
			if err != nil {
				t.Fatal(err)
			}
			d := Decide(lines, available)
			if d.Reserve != tt.wantReserve || !slices.Equal(d.Missing, tt.wantMissing) {
				t.Errorf("Decide(%v) = reserve %v missing %q, want reserve %v missing %q",
					lines, d.Reserve, d.Missing, tt.wantReserve, tt.wantMissing)
			}
			if !slices.Equal(d.Lines, lines) {
				t.Errorf("Decide lines = %v, want the normalized %v", d.Lines, lines)
			}
		})
	}
	t.Run("available map untouched", func(t *testing.T) {
		t.Parallel()
		levels := map[string]int{"A1": 5}
		Decide([]Line{{"A1", 5}}, levels)
		if levels["A1"] != 5 {
			t.Errorf("Decide changed the levels: %v", levels)
		}
	})
}
