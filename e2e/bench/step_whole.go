package bench

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/orderbus/orderbus/e2e/chaos"
	"github.com/orderbus/orderbus/e2e/launcher"
	"github.com/orderbus/orderbus/pkg/stack"
)

// limitedShare is the share of the whole system's closed-loop orders
// that ask for the limited SKU; half of them are rejected.
const limitedShare = 0.2

// wholeSystem runs every service, with the email service's SMTP
// connections going through a DelayProxy (no delay until the slow-SMTP
// step): the closed loop until every effect, the open loop for latency,
// the same with slow SMTP, and the synchronous baseline.
func (b *bencher) wholeSystem(ctx context.Context) error {
	b.prog.Step("starting the whole system", 0)
	smtpPort, err := stack.FreePort()
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	proxy, err := NewDelayProxy("127.0.0.1:" + strconv.Itoa(smtpPort))
	if err != nil {
		return err
	}
	defer proxy.Close()
	env := map[string]map[string]string{"email": {"SMTP_PORT": strconv.Itoa(proxy.Port())}}
	var debugAddrs map[string]string
	if b.opts.ProfileDir != "" {
		if err := os.MkdirAll(b.opts.ProfileDir, 0o755); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		if debugAddrs, err = debugEnv(env); err != nil {
			return err
		}
	}
	sys, err := launcher.Start(ctx, launcher.Config{
		Postgres: b.pg, Binaries: b.bins, Logger: b.opts.Logger,
		Ports: map[string]int{launcher.PortSMTP: smtpPort},
		Env:   env,
	})
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer func() {
		proxy.SetDelay(0) // so that the email service's in-flight mails end quickly
		_ = sys.Close(context.WithoutCancel(ctx))
	}()
	fx, err := openEffects(ctx, sys)
	if err != nil {
		return err
	}
	defer fx.close()
	w := &whole{bencher: b, sys: sys, fx: fx, proxy: proxy, procs: b.procs(sys), debugAddrs: debugAddrs}
	for _, step := range []func(context.Context) error{w.closed, w.latency, w.slowSMTP} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// whole is the state of the whole-system steps.
type whole struct {
	*bencher
	sys   *launcher.System
	fx    *effects
	proxy *DelayProxy
	procs []Proc
	// debugAddrs are the services' debug listeners, by name, when
	// Options.ProfileDir asks for profiles.
	debugAddrs map[string]string
	// fastP99 is the fast-SMTP open loop's accept p99, in ms.
	fastP99 float64
	// latencyRate is the rate of both open loops, asked that rate when
	// capped (else 0).
	latencyRate, asked float64
}

// closed places Options.Orders orders from Options.Clients clients and
// waits until each has every effect, measuring memory and CPU meanwhile,
// then reconciles every effect with e2e/chaos's checker.
func (w *whole) closed(ctx context.Context) error {
	w.prog.Step("whole system: idle memory", 0)
	// Let the services finish starting (first fetches, probes) before
	// the idle reading.
	sleepUntil(ctx, time.Now().Add(3*time.Second))
	idle := currentRSS(w.procs)

	orders := newWorkload(w.opts.Seed+1, max(1, w.opts.Orders/3), limitedShare, "whole").orders(w.opts.Orders)
	stock := map[string]int{limitedSKU: limitedWanted(orders) / 2}
	for _, sku := range plentySKUs {
		stock[sku] = plentyStock
	}
	if err := setStock(ctx, w.sys.ServiceURL("inventory"), stock); err != nil {
		return err
	}

	w.prog.Step(fmt.Sprintf("whole system: %d clients closed loop", w.opts.Clients), w.opts.Orders)
	var i atomic.Int64
	next := func() order { return orders[i.Add(1)-1] }
	rss := startRSS(ctx, w.procs, 250*time.Millisecond)
	defer rss.Stop()
	rss.Reset()
	if err := w.resetStatements(ctx); err != nil {
		return err
	}
	var profiles *profiling
	if w.debugAddrs != nil {
		profiles = startProfiles(ctx, w.debugAddrs, w.opts.ProfileDir, w.opts.ProfileTime)
	}
	before, machineBefore := cpuSnapshot(w.procs), machineNow()
	load := closedLoop(ctx, newPoster(w.sys.OrderURL(), w.prog.Counter()), w.opts.Clients, w.opts.Orders, 0, next)
	accepted := load.Accepted()
	exp := expectation(accepted, stock)
	want := counts{Decided: len(accepted), Decisions: len(accepted), Receipts: len(accepted),
		Apologies: exp.Rejections, Texts: len(accepted), Caught: len(accepted) + exp.Rejections}

	w.prog.Step("whole system: waiting for every effect", len(accepted))
	_, err := w.fx.wait(ctx, want, w.opts.Settle, func(c counts) { w.prog.Set(c.orders()) })
	used := cpuDelta(before, cpuSnapshot(w.procs))
	w.res.Whole.Machine = machineShare(machineBefore, machineNow())
	peak := rss.Reset()
	if err != nil {
		return err
	}
	if profiles != nil {
		if err := profiles.wait(); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		w.prog.Logf("CPU profiles of the first %s of the closed loop: %s/<service>.pprof",
			w.opts.ProfileTime, w.opts.ProfileDir)
	}
	last, err := w.fx.lastEffect(ctx)
	if err != nil {
		return err
	}
	wr := &w.res.Whole
	wr.Load, wr.Rejections = load.Figures, exp.Rejections
	w.res.samples.wholeClosed = load.Samples()
	wr.ProcessedSeconds = last.Sub(load.Start).Seconds()
	if wr.ProcessedSeconds > 0 {
		wr.ProcessedRate = float64(len(accepted)) / wr.ProcessedSeconds
	}
	if tps := w.res.pgbenchTPS(); tps > 0 {
		wr.ShareOfPgbench = wr.ProcessedRate / tps
	}
	w.res.Footprint = footprints(w.procs, idle, peak, perOrder(used, len(accepted)), w.alone)
	w.prog.Logf("whole system, closed loop: %.0f orders/s accepted, %.0f orders/s with every effect",
		load.Figures.Rate, wr.ProcessedRate)
	if err := w.logStatements(ctx, len(accepted)); err != nil {
		return err
	}

	w.prog.Step("whole system: reconciling every effect (e2e/chaos checker)", 0)
	report, err := reconcile(ctx, w.sys, exp, 30*time.Second)
	if err != nil {
		return err
	}
	wr.Reconciled, wr.Findings, wr.Effects = report.OK(), report.Findings, report.Effects
	return nil
}

// expectation is what the clients know of the closed loop: its accepted
// orders, the stock set, and how many must be rejected.
func expectation(accepted []Shot, stock map[string]int) chaos.Expectation {
	exp := chaos.Expectation{InitialStock: stock}
	limited := 0
	for _, s := range accepted {
		exp.Accepted = append(exp.Accepted, s.Order.Placed)
		for _, it := range s.Order.Items {
			if it.SKU == limitedSKU {
				limited++
			}
		}
	}
	exp.Rejections = max(0, limited-stock[limitedSKU])
	return exp
}

// reconcile runs the checker until it passes twice in a row (acks and
// outbox deletions trail the effects a little) or limit passes, and
// returns the last report.
func reconcile(ctx context.Context, sys *launcher.System, exp chaos.Expectation, limit time.Duration) (*chaos.Report, error) {
	deadline := time.Now().Add(limit)
	passed := false
	for {
		snap, err := chaos.Collect(ctx, sys)
		if err != nil {
			return nil, fmt.Errorf("bench: reconcile: %w", err)
		}
		report := chaos.Check(exp, snap)
		if (report.OK() && passed) || time.Now().After(deadline) {
			return report, nil
		}
		passed = report.OK()
		if !sleepUntil(ctx, time.Now().Add(500*time.Millisecond)) {
			return report, ctx.Err()
		}
	}
}

// latency runs the open loop with fast SMTP and measures order → receipt.
func (w *whole) latency(ctx context.Context) error {
	before, err := w.fx.counts(ctx)
	if err != nil {
		return err
	}
	wl := newWorkload(w.opts.Seed+2, 1000, 0, "latency")
	w.latencyRate, w.asked = w.rate(w.opts.LatencyRate, w.res.Whole.ProcessedRate)
	n := int(w.latencyRate * w.opts.LatencyTime.Seconds())
	w.prog.Step(fmt.Sprintf("whole system: open loop %.0f orders/s, %v", w.latencyRate, w.opts.LatencyTime), n)
	load := openLoop(ctx, newPoster(w.sys.OrderURL(), w.prog.Counter()), w.latencyRate, w.opts.LatencyTime, maxInFlight, wl.next)
	load.Figures.Asked = w.asked
	accepted := load.Accepted()
	w.prog.Step("whole system: waiting for the receipts", len(accepted))
	want := counts{Receipts: before.Receipts + len(accepted), Caught: before.Caught + len(accepted)}
	if _, err := w.fx.wait(ctx, want, w.opts.Settle, func(c counts) { w.prog.Set(c.Receipts - before.Receipts) }); err != nil {
		return err
	}
	receipts, missing, err := w.fx.receipts(ctx, accepted)
	if err != nil {
		return err
	}
	lr := &w.res.Latency
	lr.Load, lr.Receipt, lr.ReceiptMissing = load.Figures, Summarize(Latencies(receipts)), missing
	w.res.samples.fast, w.res.samples.receipt = load.Samples(), receipts
	w.fastP99 = load.Figures.Accept.P99MS
	w.prog.Logf("whole system at %.0f/s: accept p99 %.1f ms, order → receipt p50 %.1f ms, p99 %.1f ms",
		w.latencyRate, load.Figures.Accept.P99MS, lr.Receipt.P50MS, lr.Receipt.P99MS)
	return nil
}

// slowSMTP runs the same open loop with the SMTP server answering late,
// then the synchronous baseline through the same slow server.
func (w *whole) slowSMTP(ctx context.Context) error {
	w.proxy.SetDelay(w.opts.SMTPDelay)
	wl := newWorkload(w.opts.Seed+3, 1000, 0, "slow")
	n := int(w.latencyRate * w.opts.LatencyTime.Seconds())
	w.prog.Step(fmt.Sprintf("whole system, SMTP answering after %v: open loop %.0f orders/s, %v",
		w.opts.SMTPDelay, w.latencyRate, w.opts.LatencyTime), n)
	load := openLoop(ctx, newPoster(w.sys.OrderURL(), w.prog.Counter()), w.latencyRate, w.opts.LatencyTime, maxInFlight, wl.next)
	load.Figures.Asked = w.asked
	sr := &w.res.SlowSMTP
	sr.DelayMS, sr.Load = ms(w.opts.SMTPDelay), load.Figures
	if w.fastP99 > 0 {
		sr.P99Ratio = load.Figures.Accept.P99MS / w.fastP99
	}
	w.res.samples.slow = load.Samples()

	bl, err := startBaseline(ctx, w.scratch, "127.0.0.1", w.proxy.Port(), 16)
	if err != nil {
		return err
	}
	defer func() { _ = bl.Close(context.WithoutCancel(ctx)) }()
	wl = newWorkload(w.opts.Seed+4, 1000, 0, "baseline")
	n = int(w.opts.BaselineRate * w.opts.BaselineTime.Seconds())
	w.prog.Step(fmt.Sprintf("synchronous baseline (store, send, answer), SMTP after %v: open loop %.0f orders/s, %v",
		w.opts.SMTPDelay, w.opts.BaselineRate, w.opts.BaselineTime), n)
	base := openLoop(ctx, newPoster(bl.URL(), w.prog.Counter()), w.opts.BaselineRate, w.opts.BaselineTime, maxInFlight, wl.next)
	sr.Baseline = base.Figures
	w.res.samples.baseline = base.Samples()
	w.prog.Logf("slow SMTP: accept p99 %.1f ms (%.2f× fast); synchronous baseline p50 %.0f ms",
		load.Figures.Accept.P99MS, sr.P99Ratio, base.Figures.Accept.P50MS)
	return nil
}

// setStock sets each SKU's available stock.
func setStock(ctx context.Context, base string, stock map[string]int) error {
	for sku, n := range stock {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, base+"/v1/stock/"+sku,
			bytes.NewReader(fmt.Appendf(nil, `{"available": %d}`, n)))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+launcher.DevOperatorToken())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("bench: set stock of %s: %w", sku, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("bench: set stock of %s: %s", sku, resp.Status)
		}
	}
	return nil
}

// footprints assembles the footprint table in procs order.
func footprints(procs []Proc, idle, peak map[string]int64, cpu, alone map[string]cpuTimes) []Footprint {
	var out []Footprint
	for _, p := range procs {
		f := Footprint{
			Process: p.Name, RSSIdleMB: mb(idle[p.Name]), RSSPeakMB: mb(peak[p.Name]),
			CPUPerOrderMS: ms(cpu[p.Name].Total()), OrderAloneCPUPerOrderMS: ms(alone[p.Name].Total()),
		}
		if t := cpu[p.Name].Total(); t > 0 {
			f.SystemShare = float64(cpu[p.Name].System) / float64(t)
		}
		out = append(out, f)
	}
	return out
}

// machineNow reads the machine's CPU times; zero when it cannot.
func machineNow() machineTimes {
	m, _ := readMachine()
	return m
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }
