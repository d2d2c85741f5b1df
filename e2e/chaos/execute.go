package chaos

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/orderbus/orderbus/e2e/launcher"
)

// executor carries out fault lanes against a system and supervises its
// services: one that exits without being killed is restarted, as an
// orchestrator would, and the exit is reported.
type executor struct {
	sys     *launcher.System
	start   time.Time
	log     *slog.Logger
	latency time.Duration

	locks map[string]*sync.Mutex // per service: a kill, a pause, a restart

	mu        sync.Mutex
	done      []Executed
	unplanned []string
}

func newExecutor(sys *launcher.System, start time.Time, log *slog.Logger, latency time.Duration) *executor {
	x := &executor{sys: sys, start: start, log: log, latency: latency, locks: map[string]*sync.Mutex{}}
	for _, svc := range sys.Services() {
		x.locks[svc] = &sync.Mutex{}
	}
	return x
}

// lane runs faults one after the other, each at its time or as soon as
// the one before has ended.
func (x *executor) lane(ctx context.Context, faults []Fault) {
	for _, f := range faults {
		if !sleepUntil(ctx, x.start.Add(f.At)) {
			return
		}
		e := x.do(ctx, f)
		x.mu.Lock()
		x.done = append(x.done, e)
		x.mu.Unlock()
		if e.Error != "" {
			x.log.Warn("fault failed", "kind", f.Kind, "target", f.Target, "error", e.Error)
		}
	}
}

// do executes one fault and brings the target back, even once ctx ends.
func (x *executor) do(ctx context.Context, f Fault) Executed {
	if lock := x.locks[f.Target]; lock != nil {
		// A kill or pause of a service waits for the one before on it.
		lock.Lock()
		defer lock.Unlock()
	}
	e := Executed{Fault: f, Began: time.Since(x.start)}
	x.log.Info("fault", "kind", f.Kind, "target", f.Target, "for", f.For.Round(time.Millisecond).String())
	back := context.WithoutCancel(ctx)
	var err error
	switch f.Kind {
	case KillService:
		if err = x.sys.KillService(f.Target); err == nil {
			wait(ctx, f.For)
			e.Starts, err = x.restart(back, f.Target)
		}
	case KillNATS:
		if err = x.sys.KillNATS(); err == nil {
			wait(ctx, f.For)
			e.Starts, err = retry(back, func() error { return x.sys.NATS().Start(back) })
		}
	case CrashPostgres:
		if err = x.sys.CrashPostgres(back); err == nil {
			wait(ctx, f.For)
			e.Starts, err = retry(back, func() error { return x.sys.StartPostgres(back) })
		}
	case MailOutage:
		if err = x.sys.Mailpit().Stop(back); err == nil {
			wait(ctx, f.For)
			e.Starts, err = retry(back, func() error { return x.sys.Mailpit().Start(back) })
		}
	case NetLatency:
		var p *launcher.Proxy
		if p, err = x.proxy(f.Target); err == nil {
			if err = p.AddLatency(x.latency, x.latency/3); err == nil {
				wait(ctx, f.For)
				err = p.RemoveLatency(back)
			}
		}
	case NetCut:
		var p *launcher.Proxy
		if p, err = x.proxy(f.Target); err == nil {
			p.Cut()
			wait(ctx, f.For)
			err = p.Restore()
		}
	case PauseService:
		if err = x.sys.PauseService(f.Target); err == nil {
			wait(ctx, f.For)
			err = x.sys.ResumeService(f.Target)
		}
	default:
		err = fmt.Errorf("unknown fault kind %q", f.Kind)
	}
	e.Took = time.Since(x.start) - e.Began
	if err != nil {
		e.Error = err.Error()
	}
	return e
}

func (x *executor) proxy(route string) (*launcher.Proxy, error) {
	for _, p := range x.sys.Proxies() {
		if p.Route().String() == route {
			return p, nil
		}
	}
	return nil, fmt.Errorf("no proxy for route %s", route)
}

// restart starts a service until it is ready, killing an attempt that
// runs but does not become ready; it returns the attempts made.
func (x *executor) restart(ctx context.Context, svc string) (int, error) {
	return retry(ctx, func() error {
		err := x.sys.StartService(ctx, svc)
		if err != nil {
			_ = x.sys.KillService(svc)
		}
		return err
	})
}

// retry calls start up to 10 times, a second apart, until it succeeds.
func retry(ctx context.Context, start func() error) (int, error) {
	var err error
	for n := 1; n <= 10; n++ {
		if err = start(); err == nil {
			return n, nil
		}
		wait(ctx, time.Second)
	}
	return 10, fmt.Errorf("not back after 10 attempts: %w", err)
}

// wait lets a fault last d: the fault's length, not a synchronisation.
func wait(ctx context.Context, d time.Duration) {
	sleepUntil(context.WithoutCancel(ctx), time.Now().Add(d))
}

// supervise restarts, every half second until ctx ends, each service
// whose process exited without the executor's doing.
func (x *executor) supervise(ctx context.Context) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, svc := range x.sys.Services() {
			lock := x.locks[svc]
			if !lock.TryLock() {
				continue
			}
			if p := x.sys.Process(svc); p != nil {
				select {
				case <-p.Exited():
					note := fmt.Sprintf("%s exited by itself at %v (%v); restarted", svc,
						time.Since(x.start).Round(time.Second), p.Err())
					x.log.Warn("unplanned exit", "service", svc, "error", p.Err())
					_, err := x.restart(context.WithoutCancel(ctx), svc)
					if err != nil {
						note += fmt.Sprintf(" (restart failed: %v)", err)
					}
					x.mu.Lock()
					x.unplanned = append(x.unplanned, note)
					x.mu.Unlock()
				default:
				}
			}
			lock.Unlock()
		}
	}
}

func (x *executor) results() ([]Executed, []string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]Executed(nil), x.done...), append([]string(nil), x.unplanned...)
}
