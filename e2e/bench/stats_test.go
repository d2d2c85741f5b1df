package bench

import (
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	t.Parallel()
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value is every percentile", ms(7), 99, 7 * time.Millisecond},
		{"median of four is the second", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p51 of four is the third", ms(1, 2, 3, 4), 51, 3 * time.Millisecond},
		{"p100 is the max", ms(1, 2, 3, 4), 100, 4 * time.Millisecond},
		{"tiny p is the min", ms(1, 2, 3, 4), 0.001, 1 * time.Millisecond},
		{"p99 of 1..100 is 99", hundred, 99, 99 * time.Millisecond},
		{"p90 of 1..100 is 90", hundred, 90, 90 * time.Millisecond},
		{"p99.5 of 1..100 is 100", hundred, 99.5, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarizeSortsAndConverts(t *testing.T) {
	t.Parallel()
	lat := []time.Duration{4 * time.Millisecond, 1 * time.Millisecond, 3 * time.Millisecond, 2 * time.Millisecond}
	got := Summarize(lat)
	want := Summary{Count: 4, MeanMS: 2.5, P50MS: 2, P90MS: 4, P99MS: 4, MaxMS: 4}
	if got != want {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
	if lat[0] != 4*time.Millisecond {
		t.Error("Summarize reordered its argument")
	}
	if (Summarize(nil) != Summary{}) {
		t.Error("Summarize(nil) is not the zero Summary")
	}
}

// The grid of the distribution plot rises, stays within the percentiles
// n samples can tell apart, and ends at the last of them.
func TestPercentileGrid(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 40, 1000, 1_000_000} {
		g := percentileGrid(n)
		top := min(99.99, 100*(1-1/float64(n)))
		if g[0] != 0 || g[len(g)-1] != top {
			t.Errorf("n=%d: grid from %v to %v, want 0 to %v", n, g[0], g[len(g)-1], top)
		}
		for i := 1; i < len(g); i++ {
			if g[i] < g[i-1] {
				t.Fatalf("n=%d: grid falls at %d: %v", n, i, g[i-1:i+1])
			}
		}
	}
}
