// Command orderbus-bench (make bench) measures orderbus on this machine
// and prints one table: the PostgreSQL limit measured then and there with
// pgbench, the order service alone, the whole system until every effect
// of every order is delivered and reconciled, latency under load, the
// same load with an SMTP server answering every command late next to a
// synchronous baseline, and each process's memory and CPU per order,
// with issue 11's targets beside the figures (informational: it exits 0
// whatever they are). It writes result.json, latency.png and table.txt
// into a new folder under -out, and shows a progress line on stderr.
//
// It starts everything itself on free ports of 127.0.0.1 (its own
// PostgreSQL cluster with fsync on, nats-server with sync_interval:
// always, Mailpit) and stops it all at the end.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/orderbus/orderbus/e2e/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "orderbus-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	quick := hasFlag(args[1:], "quick")
	o := bench.DefaultOptions()
	if quick {
		o = bench.QuickOptions()
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Bool("quick", false, "shorter runs of every step (under two minutes on 2 cores); flags after it override its sizes")
	fs.IntVar(&o.Clients, "clients", o.Clients, "closed-loop clients (pgbench's second run, the order service, the whole system)")
	fs.DurationVar(&o.PgbenchTime, "pgbench-time", o.PgbenchTime, "length of each pgbench run (whole seconds)")
	fs.DurationVar(&o.OrderTime, "order-time", o.OrderTime, "the order service's closed loop")
	fs.Float64Var(&o.OpenRate, "open-rate", o.OpenRate, "the order service's open-loop rate, orders/s")
	fs.DurationVar(&o.OpenTime, "open-time", o.OpenTime, "the order service's open loop")
	fs.IntVar(&o.Orders, "orders", o.Orders, "orders of the whole system's closed loop, each waited for until every effect")
	fs.Float64Var(&o.LatencyRate, "latency-rate", o.LatencyRate, "the whole system's open-loop rate, orders/s (fast and slow SMTP)")
	fs.DurationVar(&o.LatencyTime, "latency-time", o.LatencyTime, "each of the whole system's open loops")
	fs.DurationVar(&o.SMTPDelay, "smtp-delay", o.SMTPDelay, "how late the slow SMTP server answers every command")
	fs.Float64Var(&o.BaselineRate, "baseline-rate", o.BaselineRate, "the synchronous baseline's open-loop rate, orders/s")
	fs.DurationVar(&o.BaselineTime, "baseline-time", o.BaselineTime, "the synchronous baseline's open loop")
	fs.BoolVar(&o.NoCap, "no-cap", o.NoCap, "run the open loops at the rates asked even beyond what the system sustains (else capped at 80 % of the closed loop's rate)")
	fs.DurationVar(&o.Settle, "settle", o.Settle, "the longest wait for every effect to be delivered")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "seed of the orders")
	fs.IntVar(&o.Statements, "statements", o.Statements, "load pg_stat_statements and log the N statements that took the most time in the whole system's closed loop, with calls per order (0: off; the extension costs a little)")
	fs.StringVar(&o.ProfileDir, "profiles", o.ProfileDir, "write a CPU profile of each service, over the first -profile-time of the whole system's closed loop, to this folder (<service>.pprof, go tool pprof -top)")
	fs.DurationVar(&o.ProfileTime, "profile-time", o.ProfileTime, "how long each -profiles CPU profile runs")
	out := fs.String("out", "bench-results", "folder for the run's folder (result.json, latency.png, table.txt)")
	verbose := fs.Bool("v", false, "log the launcher's progress to stderr")
	cpuProfile := fs.String("cpuprofile", "", "write the bench tool's own CPU profile to this file (go tool pprof), to see what the load generator and checker cost")
	if err := fs.Parse(args[1:]); errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	o.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	o.Progress = stderr
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}

	res, err := bench.Run(ctx, o)
	if res == nil {
		return err
	}
	fmt.Fprintln(stdout)
	if perr := res.PrintTable(stdout); perr != nil {
		err = errors.Join(err, perr)
	}
	dir, werr := res.WriteFiles(*out)
	if werr != nil {
		return errors.Join(err, werr)
	}
	fmt.Fprintf(stdout, "\nwrote %s/{%s,%s,%s}\n", dir, bench.ResultFile, bench.PictureFile, bench.TableFile)
	return err
}

// hasFlag reports whether args hold -name or --name (before the first
// non-flag), so that -quick can change the defaults other flags start
// from.
func hasFlag(args []string, name string) bool {
	for _, a := range args {
		switch a {
		case "-" + name, "--" + name, "-" + name + "=true", "--" + name + "=true":
			return true
		case "--":
			return false
		}
	}
	return false
}
