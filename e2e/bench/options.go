package bench

import (
	"errors"
	"io"
	"log/slog"
	"time"
)

// Options size a Run. DefaultOptions is make bench's run (a few minutes
// on 2 cores), QuickOptions the -quick one (under two minutes).
type Options struct {
	// Clients is the number of closed-loop clients, for pgbench's second
	// run and the closed loops of the order service and the whole system
	// (pgbench's first run has one).
	Clients int
	// PgbenchTime is each pgbench run's length (whole seconds).
	PgbenchTime time.Duration
	// OrderTime is the order service's closed-loop run; OpenRate and
	// OpenTime its open-loop run.
	OrderTime time.Duration
	OpenRate  float64
	OpenTime  time.Duration
	// Orders is how many orders the whole system's closed loop places;
	// each must have every effect before the run goes on.
	Orders int
	// LatencyRate and LatencyTime are the open-loop load of the whole
	// system, with a fast and then with a slow SMTP server.
	LatencyRate float64
	LatencyTime time.Duration
	// SMTPDelay is how late the slow SMTP server answers every command.
	SMTPDelay time.Duration
	// BaselineRate and BaselineTime are the open-loop load of the
	// synchronous baseline.
	BaselineRate float64
	BaselineTime time.Duration
	// NoCap runs the open loops at OpenRate and LatencyRate even beyond
	// what the system sustains. Without it, an open loop whose rate is
	// above capFactor of its closed loop's rate (the order service's
	// accepts, the whole system's fully processed orders) runs at that
	// instead, so that its latencies are those of a loaded system rather
	// than of an ever-growing queue; the table says so, and a capped run
	// does not meet a target set at the asked rate.
	NoCap bool
	// Settle bounds each wait for the system to deliver every effect.
	Settle time.Duration
	// Seed makes the orders reproducible.
	Seed uint64
	// Statements, when above 0, loads pg_stat_statements into the bench's
	// PostgreSQL and logs, after the whole system's closed loop, the
	// statements that took the most time, with their calls per order.
	// Off by default: the extension costs a little on every statement.
	Statements int
	// ProfileDir, when set, has every service of the whole system serve
	// Go's profiles (DEBUG_ADDR, loopback) and receives a CPU profile of
	// each, <service>.pprof, taken over the first ProfileTime of the
	// whole system's closed loop: where each process spends
	// its time under load (go tool pprof -top).
	ProfileDir string
	// ProfileTime is how long each CPU profile of ProfileDir runs.
	ProfileTime time.Duration
	// Binaries are prebuilt service binaries (launcher.Build); missing
	// ones are built first.
	Binaries map[string]string
	// Progress receives the progress line; nil discards it.
	Progress io.Writer
	// Logger reports the launcher's progress; nil discards it.
	Logger *slog.Logger
}

// DefaultOptions returns make bench's sizes: 8 clients, pgbench 10 s per
// run, the order service 15 s closed loop and 10 s at 1,000 orders/s,
// the whole system 10,000 orders closed loop, then 15 s at 200 orders/s
// with fast and with 500 ms SMTP, and the baseline 10 s at 20 orders/s.
func DefaultOptions() Options {
	return Options{
		Clients: 8, PgbenchTime: 10 * time.Second,
		OrderTime: 15 * time.Second, OpenRate: 1000, OpenTime: 10 * time.Second,
		Orders:      10000,
		LatencyRate: 200, LatencyTime: 15 * time.Second, SMTPDelay: 500 * time.Millisecond,
		BaselineRate: 20, BaselineTime: 10 * time.Second,
		Settle: 5 * time.Minute, Seed: 1, ProfileTime: 10 * time.Second,
	}
}

// QuickOptions returns shorter runs of the same steps (-quick).
func QuickOptions() Options {
	o := DefaultOptions()
	o.PgbenchTime, o.OrderTime, o.OpenTime = 3*time.Second, 5*time.Second, 4*time.Second
	o.Orders, o.LatencyTime, o.BaselineTime = 1000, 5*time.Second, 4*time.Second
	o.Settle = 2 * time.Minute
	return o
}

func (o *Options) validate() error {
	var errs []error
	if o.Clients < 1 || o.Orders < 1 {
		errs = append(errs, errors.New("clients and orders must be at least 1"))
	}
	if o.OpenRate <= 0 || o.LatencyRate <= 0 || o.BaselineRate <= 0 {
		errs = append(errs, errors.New("rates must be positive"))
	}
	for _, d := range []time.Duration{o.PgbenchTime, o.OrderTime, o.OpenTime, o.LatencyTime, o.BaselineTime, o.Settle} {
		if d <= 0 {
			errs = append(errs, errors.New("durations must be positive"))
			break
		}
	}
	if o.SMTPDelay < 0 {
		errs = append(errs, errors.New("the SMTP delay must not be negative"))
	}
	if o.ProfileDir != "" && o.ProfileTime <= 0 {
		errs = append(errs, errors.New("the profile time must be positive"))
	}
	return errors.Join(errs...)
}
