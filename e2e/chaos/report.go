package chaos

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// Print writes the report as tables: one line per effect, the stock
// arithmetic, outboxes, consumers and the DLQ, then every finding.
func (r *Report) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "effect\texpected\tapplied\tlost\tduplicated\tunexpected\t")
	for _, e := range r.Effects {
		dup := fmt.Sprint(e.Duplicated)
		if e.DuplicatesAllowed && e.Duplicated > 0 {
			dup += " (same Message-ID)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%d\t\n", e.Name, e.Expected, e.Applied, e.Lost, dup, e.Unexpected)
	}
	tw.Flush()
	for _, e := range r.Effects {
		if e.Note != "" {
			fmt.Fprintf(w, "  %s: %s\n", e.Name, e.Note)
		}
	}

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "sku\tinitial\treserved\tinitial-reserved\tavailable\t")
	for _, s := range r.Stock {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", s.SKU, s.Initial, s.Reserved, s.Expected, s.Available)
	}
	tw.Flush()

	fmt.Fprintln(w)
	var outboxes []string
	for _, svc := range slices.Sorted(maps.Keys(r.Outboxes)) {
		outboxes = append(outboxes, fmt.Sprintf("%s %d", svc, r.Outboxes[svc]))
	}
	fmt.Fprintf(w, "outbox rows left: %s\n", strings.Join(outboxes, ", "))
	fmt.Fprintf(w, "DLQ messages: %d\n", r.DeadLetters)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "consumer\tdeliveries\tpending\tack pending\t")
	for _, c := range r.Consumers {
		fmt.Fprintf(tw, "%s/%s\t%d\t%d\t%d\t\n", c.Stream, c.Durable, c.Delivered, c.Pending, c.AckPending)
	}
	tw.Flush()

	fmt.Fprintln(w)
	if r.OK() {
		fmt.Fprintln(w, "checker: PASS (nothing lost, nothing applied twice, nothing pending)")
		return
	}
	fmt.Fprintf(w, "checker: FAIL, %d findings:\n", len(r.Findings))
	for _, f := range r.Findings {
		fmt.Fprintf(w, "  - %s\n", f)
	}
}
