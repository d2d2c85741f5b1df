package bench

import (
	"fmt"
	"slices"
)

// The targets of issue 11.
const (
	targetShareOfPgbench = 0.60 // order service alone vs pgbench, 8 clients
	targetOpenP99MS      = 10.0 // order service alone at 1,000 orders/s
	targetProcessedRate  = 500  // whole system, every effect delivered
	targetAcceptP99MS    = 10.0 // whole system at 200 orders/s
	targetReceiptP50MS   = 15.0
	targetReceiptP99MS   = 60.0
	targetSlowRatio      = 1.10 // accept p99, slow SMTP over fast
	targetBaselineP50MS  = 500.0
	targetIdleMB         = 30.0 // each service
	targetPeakMB         = 100.0
)

// Target ids, in the order targets lists them.
const (
	tShare = iota + 1
	tOpenP99
	tProcessed
	tAcceptP99
	tReceiptP50
	tReceiptP99
	tSlowRatio
	tBaseline
	tIdle
	tPeak
)

// services are the footprint rows the memory targets apply to.
var services = []string{"order", "inventory", "gdpr", "email", "sms"}

// targets compares r with issue 11's targets. A figure not measured (a
// run that stopped early) is not met.
func targets(r *Result) []Target {
	var out []Target
	id := 0
	add := func(name, target, measured string, met bool) {
		id++
		out = append(out, Target{ID: id, Name: name, Target: target, Measured: measured, Met: met})
	}
	oa := r.OrderAlone
	add("order service alone / pgbench, same clients", fmt.Sprintf("≥ %.0f %%", 100*targetShareOfPgbench),
		fmt.Sprintf("%.1f %%", 100*oa.ShareOfPgbench), oa.ShareOfPgbench >= targetShareOfPgbench)
	add(fmt.Sprintf("order service alone at %.0f orders/s: accept p99", oa.Open.Target), fmt.Sprintf("≤ %.0f ms", targetOpenP99MS),
		fmt.Sprintf("%s (%.0f orders/s reached)", msText(oa.Open.Accept.P99MS), oa.Open.Rate),
		oa.Open.Asked == 0 && oa.Open.Accept.Count > 0 && oa.Open.Accept.P99MS <= targetOpenP99MS &&
			oa.Open.Errors == 0 && oa.Open.Rate >= 0.95*oa.Open.Target)
	w := r.Whole
	add("whole system, every effect delivered", fmt.Sprintf("≥ %d orders/s", targetProcessedRate),
		fmt.Sprintf("%.0f orders/s", w.ProcessedRate), w.Reconciled && w.ProcessedRate >= targetProcessedRate)
	l := r.Latency
	atRate := l.Load.Asked == 0 // a capped run does not meet a target set at the asked rate
	add(fmt.Sprintf("whole system at %.0f orders/s: accept p99", l.Load.Target), fmt.Sprintf("≤ %.0f ms", targetAcceptP99MS),
		msText(l.Load.Accept.P99MS), atRate && l.Load.Accept.Count > 0 && l.Load.Accept.P99MS <= targetAcceptP99MS)
	add("order → receipt in the catcher: p50", fmt.Sprintf("≤ %.0f ms", targetReceiptP50MS),
		msText(l.Receipt.P50MS), atRate && l.Receipt.Count > 0 && l.Receipt.P50MS <= targetReceiptP50MS)
	add("order → receipt in the catcher: p99", fmt.Sprintf("≤ %.0f ms", targetReceiptP99MS),
		msText(l.Receipt.P99MS), atRate && l.Receipt.Count > 0 && l.Receipt.P99MS <= targetReceiptP99MS)
	s := r.SlowSMTP
	add(fmt.Sprintf("SMTP after %.0f ms: accept p99 / fast SMTP's", s.DelayMS), fmt.Sprintf("≤ %.2f×", targetSlowRatio),
		fmt.Sprintf("%.2f×", s.P99Ratio), s.P99Ratio > 0 && s.P99Ratio <= targetSlowRatio)
	add("synchronous baseline: accept p50", fmt.Sprintf("≥ %.0f ms", targetBaselineP50MS),
		msText(s.Baseline.Accept.P50MS), s.Baseline.Accept.P50MS >= targetBaselineP50MS)
	idle, idleName := largest(r.Footprint, func(f Footprint) float64 { return f.RSSIdleMB })
	peak, peakName := largest(r.Footprint, func(f Footprint) float64 { return f.RSSPeakMB })
	add("RSS idle, largest service", fmt.Sprintf("≤ %.0f MB", targetIdleMB),
		fmt.Sprintf("%.1f MB (%s)", idle, idleName), idleName != "" && idle <= targetIdleMB)
	add("RSS under the whole-system load, largest service", fmt.Sprintf("≤ %.0f MB", targetPeakMB),
		fmt.Sprintf("%.1f MB (%s)", peak, peakName), peakName != "" && peak <= targetPeakMB)
	return out
}

// largest returns the largest value of f over the services' footprints
// and the service's name ("" when none was measured).
func largest(fp []Footprint, f func(Footprint) float64) (float64, string) {
	best, name := 0.0, ""
	for _, x := range fp {
		if slices.Contains(services, x.Process) && f(x) > 0 && f(x) >= best {
			best, name = f(x), x.Process
		}
	}
	return best, name
}

// msText prints milliseconds with precision that fits their size.
func msText(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	default:
		return fmt.Sprintf("%.2f ms", v)
	}
}
