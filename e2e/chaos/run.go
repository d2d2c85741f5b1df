package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/orderbus/orderbus/e2e/launcher"
)

// Options configure a Run. DefaultOptions is the long schedule of make
// chaos, ShortOptions the one of make test.
type Options struct {
	// Orders to place, at Rate per second, from Clients concurrent clients.
	Orders  int
	Rate    float64
	Clients int
	// Window is the span over which the faults are spread, from the first
	// order; 0 means the load's length (Orders/Rate).
	Window time.Duration
	// Seed makes the workload and the fault schedule reproducible.
	Seed uint64
	// Faults are the kinds to inject (see Kinds); Counts how many of each
	// at least (KillService: of each service).
	Faults []string
	Counts map[string]int
	// Settle bounds the wait, after the load and the last fault, for the
	// system to have done everything; the check runs then in any case.
	Settle time.Duration
	// MailDown, NetFault, Pause and Latency size the faults: the mail
	// outage; a network fault (lasting 1-2 times NetFault); a pause
	// (above the consumers' AckWait of 30s to matter); the added latency.
	MailDown, NetFault, Pause, Latency time.Duration
	// Binaries are prebuilt service binaries (launcher.Build); missing
	// ones are built.
	Binaries map[string]string
	// Env adds environment per service, over the run's own settings.
	Env map[string]map[string]string
	// Instances and NATSCluster are launcher.Config's: several instances
	// of a service (the schedule's faults and the supervisor act on the
	// first), a three-node JetStream cluster with R3 streams.
	Instances   map[string]int
	NATSCluster bool
	// During, when set, runs beside the load (from the first order) with
	// the running system: faults the schedule has no kind for, such as
	// killing one instance or the ORDERS leader of a cluster. Its error
	// is a finding.
	During func(ctx context.Context, sys *launcher.System) error
	// Logger reports progress; nil discards it.
	Logger *slog.Logger
}

// DefaultOptions returns the long schedule: 10,000 orders at 100/s from
// 16 clients, every fault kind, each service killed 3 times, nats-server
// twice, PostgreSQL crashed once, the mail server down 30 s, 3 latency
// periods and 3 cuts, one 35 s pause.
func DefaultOptions() Options {
	return Options{
		Orders: 10000, Rate: 100, Clients: 16, Seed: 1, Faults: Kinds(),
		Counts: map[string]int{
			KillService: 3, KillNATS: 2, CrashPostgres: 1, MailOutage: 1, NetLatency: 3, NetCut: 3, PauseService: 1,
		},
		Settle: 5 * time.Minute, MailDown: 30 * time.Second, NetFault: 5 * time.Second,
		Pause: 35 * time.Second, Latency: 200 * time.Millisecond,
	}
}

// ShortOptions returns the schedule of make test: 1,500 orders at 30/s,
// every fault kind once.
func ShortOptions() Options {
	o := DefaultOptions()
	o.Orders, o.Rate, o.Clients = 1500, 30, 8
	o.Counts = map[string]int{
		KillService: 1, KillNATS: 1, CrashPostgres: 1, MailOutage: 1, NetLatency: 1, NetCut: 1, PauseService: 1,
	}
	o.Settle, o.MailDown, o.NetFault = 2*time.Minute, 8*time.Second, 3*time.Second
	return o
}

// consumerBackoff compresses the consumers' redelivery delays so that
// recovery after a fault takes seconds: ten deliveries, the retry budget
// of the old runner (CONSUMER_MAX_DELIVER 10), take oldBudget, well below
// any mail outage of the schedules.
const (
	consumerBackoff = "50ms,100ms,200ms,500ms,1s"
	oldBudget       = 5850 * time.Millisecond // 0.05+0.1+0.2+0.5+6*1 s less the last delay
)

// routes are the proxies of a chaos system; on a NATS cluster only those
// to PostgreSQL (a proxy forwards to one address, a cluster has three).
func routes(natsCluster bool) []launcher.Route {
	all := []launcher.Route{
		{Service: "order", Dependency: launcher.DependencyPostgres},
		{Service: "order", Dependency: launcher.DependencyNATS},
		{Service: "inventory", Dependency: launcher.DependencyPostgres},
		{Service: "email", Dependency: launcher.DependencyNATS},
		{Service: "sms", Dependency: launcher.DependencyPostgres},
	}
	if natsCluster {
		return slices.DeleteFunc(all, func(r launcher.Route) bool { return r.Dependency == launcher.DependencyNATS })
	}
	return all
}

// env is every service's environment in a chaos run: quick retries and
// relays, short timeouts toward the dependencies.
func env(extra map[string]map[string]string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, svc := range launcher.DefaultServices() {
		out[svc] = map[string]string{
			"CONSUMER_BACKOFF": consumerBackoff, "OUTBOX_INTERVAL": "250ms", "PUBLISH_TIMEOUT": "1s",
			"CONSUMER_PROBE_INTERVAL": "500ms",
		}
	}
	out["email"]["SMTP_TIMEOUT"] = "2s"
	for svc, vars := range extra {
		for k, v := range vars {
			out[svc][k] = v
		}
	}
	return out
}

// Result is everything a Run saw and concluded.
type Result struct {
	Orders     int                `json:"orders"`
	Rate       float64            `json:"rate"`
	Clients    int                `json:"clients"`
	Seed       uint64             `json:"seed"`
	Window     time.Duration      `json:"window_ns"`
	Rejections int                `json:"expected_rejections"`
	Planned    [][]Fault          `json:"planned"`
	Faults     []Executed         `json:"faults"`
	Required   map[string]int     `json:"required"`
	Unplanned  []string           `json:"unplanned_exits"`
	Client     ClientStats        `json:"client"`
	LoadTime   time.Duration      `json:"load_ns"`
	FaultTime  time.Duration      `json:"faults_ns"`
	SettleTime time.Duration      `json:"settle_ns"`
	Settled    bool               `json:"settled"`
	MailBudget map[string]float64 `json:"mail_outage_vs_old_budget_s"`
	Check      *Report            `json:"check"`
	// Findings are the run's own failures (faults not executed as often
	// as required or failing, refused orders); Check has the checker's.
	Findings []string `json:"findings"`
	// Logs is the tail of every process's log when the run failed.
	Logs string `json:"-"`
}

// OK reports whether the run and its check found nothing wrong.
func (r *Result) OK() bool { return len(r.Findings) == 0 && r.Check != nil && r.Check.OK() }

// WriteJSON writes the result as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Run starts a system, runs the load and the fault schedule of opts,
// waits for the system to settle and checks it. It returns an error only
// when it could not run (the system did not start, the checker could not
// read it); what the check found is in the Result.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Orders < 1 || opts.Rate <= 0 || opts.Clients < 1 {
		return nil, errors.New("chaos: orders, rate and clients must be positive")
	}
	log := opts.Logger
	rng := rand.New(rand.NewPCG(opts.Seed, 0x0bde))
	p := newPlan(rng, opts.Orders)
	loadTime := time.Duration(float64(opts.Orders) / opts.Rate * float64(time.Second))
	window := opts.Window
	if window == 0 {
		window = loadTime
	}
	res := &Result{
		Orders: opts.Orders, Rate: opts.Rate, Clients: opts.Clients, Seed: opts.Seed, Window: window,
		Rejections: p.Rejections, Required: map[string]int{},
	}

	log.Info("starting the system (own PostgreSQL with fsync on, NATS with sync_interval: always)")
	sys, err := launcher.Start(ctx, launcher.Config{
		Binaries: opts.Binaries, Routes: routes(opts.NATSCluster), Env: env(opts.Env), Logger: log, ReadyTimeout: 90 * time.Second,
		Instances: opts.Instances, NATSCluster: opts.NATSCluster,
	})
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	defer func() {
		if cerr := sys.Close(context.WithoutCancel(ctx)); cerr != nil {
			log.Warn("closing the system", "error", cerr)
		}
	}()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: opts.Clients}}
	if err := setStock(ctx, hc, sys.ServiceURL("inventory"), p.Stock); err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}

	d := durations{restartDelay: 2 * time.Second, infraDown: 2 * time.Second, mailDown: opts.MailDown,
		netFault: opts.NetFault, pause: opts.Pause}
	lanes := schedule(rng, window, opts.Faults, opts.Counts, sys.Services(), routes(opts.NATSCluster), d)
	res.Planned = lanes
	for _, k := range opts.Faults {
		res.Required[k] = opts.Counts[k]
	}
	res.MailBudget = map[string]float64{"outage": opts.MailDown.Seconds(), "old_budget": oldBudget.Seconds()}

	start := time.Now()
	x := newExecutor(sys, start, log, opts.Latency)
	superviseCtx, stopSupervising := context.WithCancel(ctx)
	supervised := make(chan struct{})
	go func() { defer close(supervised); x.supervise(superviseCtx) }()

	var wg sync.WaitGroup
	for _, lane := range lanes {
		wg.Go(func() { x.lane(ctx, lane) })
	}
	var duringErr error
	if opts.During != nil {
		wg.Go(func() { duringErr = opts.During(ctx, sys) })
	}
	l := &loader{base: sys.OrderURL(), rate: opts.Rate, clients: opts.Clients, timeout: 10 * time.Second, hc: hc}
	log.Info("placing orders", "orders", opts.Orders, "rate", opts.Rate, "clients", opts.Clients)
	var accepted []Placed
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		accepted, res.Client = l.run(ctx, p)
	}()
	<-loadDone
	res.LoadTime = time.Since(start)
	wg.Wait()
	res.FaultTime = time.Since(start)
	log.Info("load and faults done", "load", res.LoadTime.Round(time.Second).String(),
		"faults", res.FaultTime.Round(time.Second).String(), "accepted", len(accepted))

	exp := Expectation{Accepted: accepted, InitialStock: p.Stock, Rejections: p.Rejections}
	settleStart := time.Now()
	res.Check, res.Settled, err = settle(ctx, sys, exp, opts.Settle, log)
	res.SettleTime = time.Since(settleStart)
	stopSupervising()
	<-supervised
	res.Faults, res.Unplanned = x.results()
	res.audit(opts)
	if duringErr != nil {
		res.Findings = append(res.Findings, fmt.Sprintf("during the load: %v", duringErr))
	}
	if err != nil {
		return res, err
	}
	if !res.OK() {
		res.Logs = sys.Logs()
	}
	return res, nil
}
