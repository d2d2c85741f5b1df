package bench

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// PrintTable prints the run's one table: every figure, the ratios, and
// issue 11's targets beside them (informational), then the footprint of
// each process.
func (r *Result) PrintTable(w io.Writer) error {
	t := &table{byID: map[int]Target{}}
	for _, x := range r.Targets {
		t.byID[x.ID] = x
	}
	s := r.Settings
	fmt.Fprintf(w, "orderbus bench, %s, %.0f s: %d CPUs, Linux %s, %s, PostgreSQL %s\n",
		r.Started.Format("2006-01-02 15:04:05"), r.Seconds, r.Host.CPUs, r.Host.Kernel, r.Host.GoVersion, r.Host.PostgreSQL)
	fmt.Fprintf(w, "durability: %s\n", r.Host.Durability)
	fmt.Fprintf(w, "load average (1 min): %.1f at the start, %.1f at the end (much above %d: other work shared the CPUs)\n\n",
		r.Host.LoadStart, r.Host.LoadEnd, r.Host.CPUs)

	t.head("PostgreSQL limit: pgbench, one transaction inserting an order row and an outbox row")
	for _, p := range r.Pgbench {
		t.row(fmt.Sprintf("%d client(s), %d s", p.Clients, p.Seconds),
			fmt.Sprintf("%s tps, latency avg %.2f ms, PostgreSQL CPU %.3f ms/tx", thousands(p.TPS), p.LatencyAvgMS, p.PostgresCPUPerTxMS), 0)
	}
	oa := r.OrderAlone
	t.head(fmt.Sprintf("Order service alone, %d clients closed loop, %.0f s", oa.Closed.Clients, s.OrderSeconds))
	t.row("accepted", fmt.Sprintf("%s orders/s%s", thousands(oa.Closed.Rate), errs(oa.Closed)), 0)
	t.row("share of pgbench, same clients", fmt.Sprintf("%.1f %%", 100*oa.ShareOfPgbench), tShare)
	t.row("accept p50 / p90 / p99 / max", pcts(oa.Closed.Accept), 0)
	t.row("machine CPU", machineText(oa.Machine), 0)
	t.head(fmt.Sprintf("Order service alone, open loop %s orders/s, %.0f s%s", thousands(oa.Open.Target), s.OpenSeconds, capped(oa.Open)))
	t.row("accepted", fmt.Sprintf("%s orders/s%s", thousands(oa.Open.Rate), errs(oa.Open)), 0)
	t.row("accept p50 / p99", fmt.Sprintf("%s / %s", msText(oa.Open.Accept.P50MS), msText(oa.Open.Accept.P99MS)), tOpenP99)

	wh := r.Whole
	t.head(fmt.Sprintf("Whole system, %d clients closed loop, %s orders (%d rejected for stock)",
		wh.Load.Clients, thousands(float64(wh.Load.Sent)), wh.Rejections))
	t.row("accepted", fmt.Sprintf("%s orders/s%s", thousands(wh.Load.Rate), errs(wh.Load)), 0)
	t.row("accept p50 / p90 / p99 / max", pcts(wh.Load.Accept), 0)
	t.row("every effect delivered (first POST → last effect)",
		fmt.Sprintf("%s orders/s in %.1f s (%.1f %% of pgbench)", thousands(wh.ProcessedRate), wh.ProcessedSeconds, 100*wh.ShareOfPgbench), tProcessed)
	reconciled := "all effects once, 0 findings"
	if !wh.Reconciled {
		reconciled = fmt.Sprintf("%d findings, e.g. %s", len(wh.Findings), first(wh.Findings))
	}
	t.row("reconciled (e2e/chaos checker)", reconciled, 0)
	t.row("machine CPU, closed loop until the last effect", machineText(wh.Machine), 0)

	l := r.Latency
	t.head(fmt.Sprintf("Whole system, open loop %s orders/s, %.0f s, fast SMTP%s", thousands(l.Load.Target), s.LatencySeconds, capped(l.Load)))
	t.row("accepted", fmt.Sprintf("%s orders/s%s", thousands(l.Load.Rate), errs(l.Load)), 0)
	t.row("accept p50 / p99", fmt.Sprintf("%s / %s", msText(l.Load.Accept.P50MS), msText(l.Load.Accept.P99MS)), tAcceptP99)
	missing := ""
	if l.ReceiptMissing > 0 {
		missing = fmt.Sprintf(" (%d not found)", l.ReceiptMissing)
	}
	t.row("order → receipt in the catcher p50", msText(l.Receipt.P50MS)+missing, tReceiptP50)
	t.row("order → receipt in the catcher p99 / max", fmt.Sprintf("%s / %s", msText(l.Receipt.P99MS), msText(l.Receipt.MaxMS)), tReceiptP99)

	sl := r.SlowSMTP
	t.head(fmt.Sprintf("SMTP answering every command after %.0f ms, open loop %s orders/s", sl.DelayMS, thousands(sl.Load.Target)))
	t.row("accept p50 / p99", fmt.Sprintf("%s / %s%s", msText(sl.Load.Accept.P50MS), msText(sl.Load.Accept.P99MS), errs(sl.Load)), 0)
	t.row("accept p99 / fast SMTP's", fmt.Sprintf("%.2f×", sl.P99Ratio), tSlowRatio)
	t.row(fmt.Sprintf("synchronous baseline (store, send, answer), %s orders/s", thousands(sl.Baseline.Target)),
		fmt.Sprintf("p50 %s, p99 %s%s", msText(sl.Baseline.Accept.P50MS), msText(sl.Baseline.Accept.P99MS), errs(sl.Baseline)), tBaseline)

	t.head("Memory, largest service")
	t.row("RSS idle", t.byID[tIdle].Measured, tIdle)
	t.row("RSS peak under the whole system's closed loop", t.byID[tPeak].Measured, tPeak)
	if err := t.print(w); err != nil {
		return err
	}
	return r.printFootprint(w)
}

// printFootprint prints each process's memory and CPU per order.
func (r *Result) printFootprint(w io.Writer) error {
	fmt.Fprintf(w, "\nFootprint per process: RSS idle and peak (whole system), CPU (user+system) per order\n")
	const format = "%-18s %11s %11s %14s %8s %14s\n"
	fmt.Fprintf(w, format, "process", "RSS idle MB", "RSS peak MB", "CPU ms/order", "kernel", "CPU ms/order")
	fmt.Fprintf(w, format, "", "", "", "whole system", "share", "order alone")
	var total, totalSys, totalAlone float64
	for _, f := range r.Footprint {
		total += f.CPUPerOrderMS
		totalSys += f.CPUPerOrderMS * f.SystemShare
		totalAlone += f.OrderAloneCPUPerOrderMS
		fmt.Fprintf(w, format, f.Process, mbText(f.RSSIdleMB), mbText(f.RSSPeakMB),
			fmt.Sprintf("%.3f", f.CPUPerOrderMS), pctText(f.SystemShare), dash(f.OrderAloneCPUPerOrderMS))
	}
	sysShare := 0.0
	if total > 0 {
		sysShare = totalSys / total
	}
	fmt.Fprintf(w, format, "total", "", "", fmt.Sprintf("%.3f", total), pctText(sysShare), fmt.Sprintf("%.3f", totalAlone))
	_, err := fmt.Fprintln(w, "(postgres: the postmaster and its backends, memory as PSS so that shared buffers count once; "+
		"CPU in 10 ms ticks over the run; the bench tool shares the machine; targets are informational, never assertions)")
	return err
}

// table collects section heads and rows of label, measured, target
// and met, and aligns the rows' columns across every section (a head
// spans the line and takes no part in the widths).
type table struct {
	byID map[int]Target
	rows [][]string // a head is a row of one cell
}

func (t *table) head(s string) { t.rows = append(t.rows, []string{s}) }

func (t *table) row(label, measured string, target int) {
	tg, met := "", ""
	if x, ok := t.byID[target]; ok && target != 0 {
		tg, met = x.Target, "no"
		if x.Met {
			met = "yes"
		}
	}
	t.rows = append(t.rows, []string{"  " + label, measured, tg, met})
}

func (t *table) print(w io.Writer) error {
	rows := append([][]string{{"what", "measured", "target", "met"}}, t.rows...)
	widths := make([]int, 4)
	for _, r := range rows {
		if len(r) == 4 {
			for i, c := range r {
				widths[i] = max(widths[i], utf8.RuneCountInString(c))
			}
		}
	}
	var b strings.Builder
	for _, r := range rows {
		if len(r) == 1 {
			b.WriteString(r[0] + "\n")
			continue
		}
		var line strings.Builder
		for i, c := range r[:3] {
			line.WriteString(c + strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+2))
		}
		b.WriteString(strings.TrimRight(line.String()+r[3], " ") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func pcts(s Summary) string {
	return fmt.Sprintf("%s / %s / %s / %s", msText(s.P50MS), msText(s.P90MS), msText(s.P99MS), msText(s.MaxMS))
}

func errs(f LoadFigures) string {
	if f.Errors == 0 {
		return ""
	}
	return fmt.Sprintf(", %d errors (%.80s)", f.Errors, f.FirstError)
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// thousands prints v rounded, with commas between thousands.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func mbText(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", v)
}

func machineText(m MachineCPU) string {
	return fmt.Sprintf("%.0f %% user, %.0f %% system, %.0f %% idle, %.0f %% I/O wait", m.UserPct, m.SystemPct, m.IdlePct, m.IOWaitPct)
}

func pctText(share float64) string {
	if share == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f %%", 100*share)
}

func dash(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f", v)
}

// capped says why an open loop ran below the rate asked.
func capped(f LoadFigures) string {
	if f.Asked == 0 {
		return ""
	}
	return fmt.Sprintf(" (%s asked: beyond what it sustains, capped at %.0f %% of its closed loop)", thousands(f.Asked), 100*capFactor)
}
