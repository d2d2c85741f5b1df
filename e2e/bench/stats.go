package bench

import (
	"cmp"
	"slices"
	"time"
)

// Sample is one measured request: when it was sent, relative to the
// start of its phase, and how long it took.
type Sample struct {
	At      time.Duration
	Latency time.Duration
}

// Summary condenses latencies: how many, and the percentiles that
// matter, in milliseconds so that result.json reads easily.
type Summary struct {
	Count  int     `json:"count"`
	MeanMS float64 `json:"mean_ms"`
	P50MS  float64 `json:"p50_ms"`
	P90MS  float64 `json:"p90_ms"`
	P99MS  float64 `json:"p99_ms"`
	MaxMS  float64 `json:"max_ms"`
}

// Summarize returns the Summary of latencies (in any order); the zero
// Summary for none. Percentiles are nearest-rank: p is the smallest
// value that at least p percent of the latencies do not exceed.
func Summarize(latencies []time.Duration) Summary {
	if len(latencies) == 0 {
		return Summary{}
	}
	sorted := slices.Clone(latencies)
	slices.Sort(sorted)
	var sum time.Duration
	for _, d := range sorted {
		sum += d
	}
	return Summary{
		Count:  len(sorted),
		MeanMS: ms(sum / time.Duration(len(sorted))),
		P50MS:  ms(Percentile(sorted, 50)),
		P90MS:  ms(Percentile(sorted, 90)),
		P99MS:  ms(Percentile(sorted, 99)),
		MaxMS:  ms(sorted[len(sorted)-1]),
	}
}

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted, which must be sorted ascending; 0 for an empty slice.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	// The rank is ceil(p/100 * n), 1-based.
	rank := int(p / 100 * float64(len(sorted)))
	if float64(rank) < p/100*float64(len(sorted)) {
		rank++
	}
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

// Latencies returns the latencies of samples, in their order.
func Latencies(samples []Sample) []time.Duration {
	out := make([]time.Duration, len(samples))
	for i, s := range samples {
		out[i] = s.Latency
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func sortSamples(s []Sample) {
	slices.SortFunc(s, func(a, b Sample) int { return cmp.Compare(a.At, b.At) })
}
