package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/orderbus/orderbus/e2e/launcher"
)

// maxInFlight bounds an open loop's outstanding requests.
const maxInFlight = 4096

// pgbench measures the PostgreSQL limit on the cluster the systems use:
// the order+outbox transaction with one client, then Options.Clients.
func (b *bencher) pgbench(ctx context.Context) error {
	var err error
	b.scratch, err = preparePgbench(ctx, b.pg, "bench_pgbench")
	if err != nil {
		return err
	}
	for _, clients := range []int{1, b.opts.Clients} {
		b.prog.Step(fmt.Sprintf("pgbench: order+outbox transaction, %d client(s), %v", clients, b.opts.PgbenchTime), 0)
		pg := []Proc{{Name: "postgres", PID: b.pg.Process().Pid(), Children: true}}
		before := cpuSnapshot(pg)
		r, err := runPgbench(ctx, b.pg.BinDir(), b.scratch, clients, b.opts.PgbenchTime)
		if err != nil {
			return err
		}
		if r.Transactions > 0 {
			r.PostgresCPUPerTxMS = ms(perOrder(cpuDelta(before, cpuSnapshot(pg)), int(r.Transactions))["postgres"].Total())
		}
		b.res.Pgbench = append(b.res.Pgbench, r)
		b.prog.Logf("pgbench %d client(s): %.0f tps", clients, r.TPS)
	}
	return nil
}

// pgbenchTPS returns the rate of pgbench's run with Options.Clients.
func (r *Result) pgbenchTPS() float64 {
	if len(r.Pgbench) == 0 {
		return 0
	}
	return r.Pgbench[len(r.Pgbench)-1].TPS
}

// orderAlone runs the order service with no consumers (as make run
// RUN_FLAGS=-services=order): a closed loop, then an open loop.
func (b *bencher) orderAlone(ctx context.Context) error {
	b.prog.Step("starting the order service alone", 0)
	sys, err := launcher.Start(ctx, launcher.Config{
		Services: []string{"order"}, Postgres: b.pg, Binaries: b.bins, Logger: b.opts.Logger,
	})
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer func() { _ = sys.Close(context.WithoutCancel(ctx)) }()
	procs := b.procs(sys)
	wl := newWorkload(b.opts.Seed, 1000, 0, "alone")
	var mu sync.Mutex
	next := func() order {
		mu.Lock()
		defer mu.Unlock()
		return wl.next()
	}
	p := newPoster(sys.OrderURL(), b.prog.Counter())
	// A short warm-up opens the connections and fills the caches.
	b.prog.Step("order service alone: warm-up", 0)
	closedLoop(ctx, p, b.opts.Clients, 0, time.Second, next)

	b.prog.Step(fmt.Sprintf("order service alone: %d clients closed loop, %v", b.opts.Clients, b.opts.OrderTime), 0)
	before, machineBefore := cpuSnapshot(procs), machineNow()
	closed := closedLoop(ctx, p, b.opts.Clients, 0, b.opts.OrderTime, next)
	used := cpuDelta(before, cpuSnapshot(procs))
	b.res.OrderAlone.Machine = machineShare(machineBefore, machineNow())
	b.res.OrderAlone.Closed = closed.Figures
	b.res.samples.orderClosed = closed.Samples()
	if tps := b.res.pgbenchTPS(); tps > 0 {
		b.res.OrderAlone.ShareOfPgbench = closed.Figures.Rate / tps
	}
	b.alone = perOrder(used, len(closed.Accepted()))
	b.prog.Logf("order service alone, closed loop: %.0f orders/s, accept p99 %.1f ms",
		closed.Figures.Rate, closed.Figures.Accept.P99MS)

	rate, asked := b.rate(b.opts.OpenRate, closed.Figures.Rate)
	b.prog.Step(fmt.Sprintf("order service alone: open loop %.0f orders/s, %v", rate, b.opts.OpenTime),
		int(rate*b.opts.OpenTime.Seconds()))
	open := openLoop(ctx, p, rate, b.opts.OpenTime, maxInFlight, next)
	open.Figures.Asked = asked
	b.res.OrderAlone.Open = open.Figures
	b.res.samples.orderOpen = open.Samples()
	b.prog.Logf("order service alone, open loop %.0f/s: %.0f orders/s, accept p99 %.1f ms",
		rate, open.Figures.Rate, open.Figures.Accept.P99MS)
	return ctx.Err()
}

// capFactor is the share of a closed loop's rate an open loop is capped
// at (see Options.NoCap).
const capFactor = 0.8

// rate returns the rate to run an open loop at, given the rate asked and
// what the closed loop sustained, and the rate asked when it is capped
// (else 0).
func (b *bencher) rate(asked, sustained float64) (float64, float64) {
	if b.opts.NoCap || sustained <= 0 || asked <= capFactor*sustained {
		return asked, 0
	}
	capped := capFactor * sustained
	b.prog.Logf("%.0f orders/s is beyond the %.0f orders/s sustained: the open loop runs at %.0f orders/s (-no-cap runs it as asked)",
		asked, sustained, capped)
	return capped, asked
}

// perOrder divides CPU times by orders.
func perOrder(used map[string]cpuTimes, orders int) map[string]cpuTimes {
	out := map[string]cpuTimes{}
	if orders == 0 {
		return out
	}
	n := time.Duration(orders)
	for name, c := range used {
		out[name] = cpuTimes{User: c.User / n, System: c.System / n}
	}
	return out
}
