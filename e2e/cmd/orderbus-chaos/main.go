// Command orderbus-chaos (make chaos) runs orderbus under faults and
// checks that nothing was lost or applied twice. It starts its own system
// with the launcher (free ports on 127.0.0.1, its own PostgreSQL with
// fsync on, NATS with sync_interval: always, Mailpit keeping mail in a
// database file, TCP proxies between some services and NATS or
// PostgreSQL), places orders from clients that retry each POST with the
// same Idempotency-Key until they get a 2xx answer, runs a seeded fault
// schedule meanwhile, waits for the system to settle and reconciles every
// effect (see package e2e/chaos). It prints the fault schedule as
// executed and the checker's tables, and exits 1 on any finding.
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
	"syscall"
	"time"

	"github.com/orderbus/orderbus/e2e/chaos"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "orderbus-chaos:", err)
		os.Exit(1)
	}
}

// errFailed is returned when the run completed and the check failed.
var errFailed = errors.New("the check failed (see the findings above)")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o := chaos.DefaultOptions()
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.Orders, "orders", o.Orders, "orders to place")
	fs.Float64Var(&o.Rate, "rate", o.Rate, "orders placed per second")
	fs.IntVar(&o.Clients, "clients", o.Clients, "concurrent clients")
	fs.DurationVar(&o.Window, "duration", 0, "the fault window from the first order (0: as long as the load, orders/rate)")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "seed of the workload and the fault schedule")
	faults := fs.String("faults", "all", "comma-separated fault kinds: "+fmt.Sprint(chaos.Kinds())+", all or none")
	kills := fs.Int("kills", o.Counts[chaos.KillService], "SIGKILLs of each service")
	fs.DurationVar(&o.Settle, "settle", o.Settle, "the longest wait for the system to settle after the load and the faults")
	fs.DurationVar(&o.MailDown, "mail-down", o.MailDown, "how long the mail server stays down")
	fs.DurationVar(&o.Pause, "pause", o.Pause, "how long a service stays paused (SIGSTOP); above AckWait (30s) to matter")
	jsonOut := fs.String("json", "", "also write the result as JSON to this file")
	verbose := fs.Bool("v", false, "log progress (faults, restarts) to stderr")
	if err := fs.Parse(args[1:]); errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	var err error
	if o.Faults, err = chaos.ParseKinds(*faults); err != nil {
		return err
	}
	o.Counts[chaos.KillService] = *kills
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	o.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	fmt.Fprintf(stdout, "orderbus-chaos: building the services and starting a system; %d orders at %.0f/s take about %v, then the system settles\n",
		o.Orders, o.Rate, time.Duration(float64(o.Orders)/o.Rate*float64(time.Second)).Round(time.Second))
	res, err := chaos.Run(ctx, o)
	if res != nil {
		res.Print(stdout)
		if *jsonOut != "" {
			if werr := writeJSON(*jsonOut, res); werr != nil {
				err = errors.Join(err, werr)
			}
		}
		if !res.OK() && res.Logs != "" {
			fmt.Fprintf(stderr, "process logs (tails):\n%s\n", res.Logs)
		}
	}
	if err != nil {
		return err
	}
	if !res.OK() {
		return errFailed
	}
	return nil
}

func writeJSON(path string, res *chaos.Result) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := res.WriteJSON(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
