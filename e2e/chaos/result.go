package chaos

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Print writes the run's report: the workload, the fault schedule as
// executed (what, when, how long), the fault counts against those
// required, the clients' retries, the settling time, the checker's tables
// and every finding.
func (r *Result) Print(w io.Writer) {
	fmt.Fprintf(w, "orderbus chaos: %d orders at %.0f/s from %d clients, seed %d, faults over %v\n",
		r.Orders, r.Rate, r.Clients, r.Seed, r.Window.Round(time.Second))
	fmt.Fprintf(w, "mail outage %.0fs, longer than the old retry budget of 10 deliveries (%.1fs with CONSUMER_BACKOFF=%s)\n\n",
		r.MailBudget["outage"], r.MailBudget["old_budget"], consumerBackoff)

	fmt.Fprintln(w, "fault schedule as executed:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  at\tfault\ttarget\tdown/slow\tback after\tstarts\terror")
	faults := slices.Clone(r.Faults)
	slices.SortFunc(faults, func(a, b Executed) int { return int(a.Began - b.Began) })
	for _, e := range faults {
		errText := e.Error
		if i := strings.IndexByte(errText, '\n'); i >= 0 {
			errText = errText[:i]
		}
		fmt.Fprintf(tw, "  %6.1fs\t%s\t%s\t%v\t%v\t%s\t%s\n", e.Began.Seconds(), e.Kind, e.Target,
			e.For.Round(100*time.Millisecond), e.Took.Round(100*time.Millisecond), countOrDash(e.Starts), errText)
	}
	tw.Flush()

	counts := map[string]int{}
	for _, e := range r.Faults {
		if e.Error == "" {
			counts[e.Kind]++
		}
	}
	fmt.Fprintln(w, "\nfaults executed (required):")
	for _, k := range Kinds() {
		want, ok := r.Required[k]
		if !ok {
			continue
		}
		per := ""
		if k == KillService {
			per = " per service"
		}
		fmt.Fprintf(w, "  %-15s %3d  (at least %d%s)\n", k, counts[k], want, per)
	}
	if len(r.Unplanned) > 0 {
		fmt.Fprintln(w, "unplanned exits (restarted like an orchestrator would):")
		for _, u := range r.Unplanned {
			fmt.Fprintf(w, "  %s\n", u)
		}
	}

	c := r.Client
	fmt.Fprintf(w, "\nclients: %d orders, %d answered 2xx (%d of them replays of a committed first attempt), %d POSTs, %d retries (most for one order: %d)\n",
		c.Orders, c.Answers, c.Replayed, c.Attempts, c.Retries, c.MaxAttempts)
	var statuses []string
	for _, s := range slices.Sorted(maps.Keys(c.Statuses)) {
		statuses = append(statuses, fmt.Sprintf("%s x%d", s, c.Statuses[s]))
	}
	fmt.Fprintf(w, "  retried after: %d transport errors or timeouts; answers %s\n", c.TransportErrors, orNone(strings.Join(statuses, ", ")))
	fmt.Fprintf(w, "timing: load %v (%.0f orders/s accepted), load and faults %v, settled %v later (settled: %v)\n\n",
		r.LoadTime.Round(100*time.Millisecond), float64(c.Answers)/max(r.LoadTime.Seconds(), 0.001),
		r.FaultTime.Round(100*time.Millisecond), r.SettleTime.Round(100*time.Millisecond), r.Settled)

	if r.Check != nil {
		r.Check.Print(w)
	}
	if len(r.Findings) > 0 {
		fmt.Fprintf(w, "run: FAIL, %d findings:\n", len(r.Findings))
		for _, f := range r.Findings {
			fmt.Fprintf(w, "  - %s\n", f)
		}
	}
	if r.OK() {
		fmt.Fprintln(w, "chaos: PASS")
	} else {
		fmt.Fprintln(w, "chaos: FAIL")
	}
}

func countOrDash(n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
