// Command orderbus-run is `make run`: it starts the whole orderbus system
// without Docker on the fixed ports of the design (PostgreSQL from the
// machine's binaries, nats-server and Mailpit from the tools folder, and
// every service found under services/), streams all their logs to stdout,
// prints the URLs once everything is ready, and on Ctrl-C or SIGTERM stops
// it all in order: services first, then Mailpit, NATS and PostgreSQL.
//
// Usage (from the repository root):
//
//	go run ./e2e/cmd/orderbus-run [-services order,inventory,email,sms] [-postgres-port 5433] [-log-level debug]
//	    [-jaeger | -otlp-endpoint http://127.0.0.1:4318 [-trace-ui http://127.0.0.1:16686]]
//
// Tracing is off unless a collector is given. -jaeger starts a Jaeger
// built from the Go module proxy into the tools folder (on first use:
// about 6 minutes; `make tools-jaeger` builds it up front), its query API
// on http://127.0.0.1:16686/api/traces (the Go module has no web UI
// bundle: the page there is a placeholder). Or name an OTLP/HTTP collector already running
// with -otlp-endpoint or OTEL_EXPORTER_OTLP_ENDPOINT: every service then
// sends its spans there, and the trace UI (-trace-ui, ORDERBUS_TRACE_UI;
// Jaeger's by default) is printed with the other URLs.
//
// The PostgreSQL cluster and the NATS and Mailpit stores are throwaway:
// they are removed on exit.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/orderbus/orderbus/e2e/launcher"
	"github.com/orderbus/orderbus/pkg/natsauth"
	"github.com/orderbus/orderbus/pkg/stack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, stop, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "orderbus-run:", err)
		os.Exit(1)
	}
}

// run starts the system and blocks until ctx ends; stopSignals restores
// the default signal handling, so a second Ctrl-C kills the launcher (its
// children die with it).
func run(ctx context.Context, stopSignals func(), args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	root, err := stack.RepoRoot()
	if err != nil {
		return err
	}
	pgPort := 5432
	if v := getenv("ORDERBUS_POSTGRES_PORT"); v != "" {
		if pgPort, err = strconv.Atoi(v); err != nil {
			return fmt.Errorf("ORDERBUS_POSTGRES_PORT=%q: not a port number", v)
		}
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	services := fs.String("services", strings.Join(launcher.AvailableServices(root), ","),
		"comma-separated services to run (known: "+strings.Join(launcher.KnownServices(), ", ")+")")
	fs.IntVar(&pgPort, "postgres-port", pgPort, "PostgreSQL port (also $ORDERBUS_POSTGRES_PORT); change it when 5432 is taken")
	instances := fs.String("instances", "",
		"instances per service: a count for every service (2) or name=count pairs (order=2,email=2); "+
			"further instances listen on the service's port plus 100 (email-2 on 8183)")
	nats := fs.String("nats", "single", "single: one nats-server; cluster: three as one JetStream cluster (R3 streams)")
	logLevel := fs.String("log-level", "info", "LOG_LEVEL of the services: debug, info, warn, error")
	otlp := fs.String("otlp-endpoint", getenv("OTEL_EXPORTER_OTLP_ENDPOINT"),
		"OTLP/HTTP collector the services send their spans to, such as Jaeger's http://127.0.0.1:4318 (also $OTEL_EXPORTER_OTLP_ENDPOINT); empty: tracing off")
	jaeger := fs.Bool("jaeger", false, "start a Jaeger (built into the tools folder on first use: minutes) and send the traces there")
	traceUI := fs.String("trace-ui", cmp.Or(getenv("ORDERBUS_TRACE_UI"), defaultTraceUI),
		"the collector's trace UI, printed with the URLs (also $ORDERBUS_TRACE_UI)")
	pprof := fs.Bool("pprof", false, "serve each service's Go profiles (DEBUG_ADDR) on 127.0.0.1, ports from "+
		strconv.Itoa(pprofBasePort)+" in start order (one instance per service)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *services == "" {
		return errors.New("no services to run: none found under services/ and -services is empty")
	}
	if *jaeger && *otlp != "" {
		return errors.New("-jaeger and -otlp-endpoint (or OTEL_EXPORTER_OTLP_ENDPOINT) both name a collector: choose one")
	}
	if *otlp != "" {
		if u, err := url.Parse(*otlp); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("-otlp-endpoint %q: want the base URL of an OTLP/HTTP receiver, such as http://127.0.0.1:4318", *otlp)
		}
	}
	names := strings.Split(*services, ",")
	counts, err := launcher.ParseInstances(*instances, names)
	if err != nil {
		return fmt.Errorf("-instances: %w", err)
	}
	if *nats != "single" && *nats != "cluster" {
		return fmt.Errorf("-nats %q: want single or cluster", *nats)
	}
	cfg := launcher.Config{
		Services:     names,
		Instances:    counts,
		NATSCluster:  *nats == "cluster",
		Fixed:        true,
		OTLPEndpoint: *otlp,
		Jaeger:       *jaeger,
		Ports:        map[string]int{launcher.PortPostgres: pgPort},
		Env:          map[string]map[string]string{},
		Output:       stdout,
		Logger:       slog.New(slog.NewTextHandler(stderr, nil)),
	}
	for _, name := range cfg.Services {
		cfg.Env[name] = map[string]string{"LOG_LEVEL": *logLevel}
	}
	var pprofURLs []string
	if *pprof {
		if pprofURLs, err = debugAddrs(cfg); err != nil {
			return err
		}
	}

	sys, err := launcher.Start(ctx, cfg)
	if busy, ok := errors.AsType[*launcher.PortsInUseError](err); ok {
		return portsHint(err, busy, pgPort)
	}
	if err != nil {
		return err
	}
	printURLs(stdout, sys, *traceUI)
	for _, u := range pprofURLs {
		fmt.Fprintf(stdout, "  %-18s %s\n", "Go profiles", u)
	}
	printCredentials(stdout, sys)
	for _, name := range sys.Services() {
		for _, inst := range sys.Instances(name) {
			go reportExit(ctx, stderr, inst, sys.Process(inst))
		}
	}

	<-ctx.Done()
	stopSignals()
	fmt.Fprintln(stderr, "orderbus-run: stopping (services, then Mailpit, NATS, PostgreSQL); Ctrl-C again kills everything")
	closeCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := sys.Close(closeCtx); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "orderbus-run: stopped")
	return nil
}

// pprofBasePort is the debug port of the first service -pprof serves.
const pprofBasePort = 6060

// debugAddrs sets DEBUG_ADDR in cfg.Env for each service with a debug
// listener (launcher.HasDebugListener), on 127.0.0.1 from pprofBasePort up, and
// returns the profiles' URLs. It refuses several instances of a service:
// they would share the port.
func debugAddrs(cfg launcher.Config) ([]string, error) {
	var urls []string
	port := pprofBasePort
	for _, name := range cfg.Services {
		if !launcher.HasDebugListener(name) {
			continue
		}
		if cfg.Instances[name] > 1 {
			return nil, fmt.Errorf("-pprof with %d instances of %s: they would share one debug port; run one", cfg.Instances[name], name)
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		cfg.Env[name]["DEBUG_ADDR"] = addr
		urls = append(urls, fmt.Sprintf("http://%s/debug/pprof/  (%s)", addr, name))
		port++
	}
	return urls, nil
}

// portsHint explains how to get around ports that are taken.
func portsHint(err error, busy *launcher.PortsInUseError, pgPort int) error {
	var hints []string
	if _, ok := busy.Ports[launcher.PortPostgres]; ok {
		hints = append(hints, fmt.Sprintf("PostgreSQL port %d is taken (a local PostgreSQL?): "+
			"pass -postgres-port=%d or set ORDERBUS_POSTGRES_PORT=%d", pgPort, pgPort+1, pgPort+1))
	}
	if len(busy.Names) > len(hints) {
		hints = append(hints, "the other ports are fixed: is another `make run` or `docker compose up` running?")
	}
	return fmt.Errorf("%w\n%s", err, strings.Join(hints, "\n"))
}

// reportExit warns when a service's process ends while the system runs, as
// `docker compose up` would show; the other processes keep running.
func reportExit(ctx context.Context, stderr io.Writer, name string, p *stack.Process) {
	select {
	case <-ctx.Done():
	case <-p.Exited():
		if ctx.Err() == nil {
			fmt.Fprintf(stderr, "orderbus-run: WARNING: service %s exited: %v (its log is above)\n", name, p.Err())
		}
	}
}

// redactPassword drops the password from a URL, which the printout gives
// beside it, so the line stays readable.
func redactPassword(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = url.User(u.User.Username())
	return u.String()
}

// samplePhone is the number scripts/place-order.sh texts by default.
const samplePhone = "+442071838750"

// defaultTraceUI is Jaeger's UI on its default port, as compose runs it.
const defaultTraceUI = "http://127.0.0.1:16686"

func printURLs(w io.Writer, sys *launcher.System, traceUI string) {
	var b strings.Builder
	row := func(label, value string) { fmt.Fprintf(&b, "  %-18s %s\n", label, value) }
	b.WriteString("\norderbus is running (Ctrl-C stops everything):\n")
	if url := sys.OrderURL(); url != "" {
		row("Orders API", url+"/v1/orders  (GET /v1/orders/{id}: status and history)")
	}
	if url := sys.ServiceURL("console"); url != "" {
		row("Console", url+"  (live orders, consumers, dead letters; a redrive takes the token of: make -s token)")
	}
	if url := sys.ServiceURL("inventory"); url != "" {
		row("Inventory API", url+"/v1/stock  (GET/PUT /v1/stock/{sku})")
	}
	if url := sys.ServiceURL("email"); url != "" {
		row("Mail records", url+"/v1/mails?order_id={id}")
	}
	if base := sys.ServiceURL("sms"); base != "" {
		row("SMS API", base+"/v1/messages?to="+url.QueryEscape(samplePhone)+"  (texts sent to a number)")
	}
	var dbs []string
	for _, name := range sys.Services() {
		for _, inst := range sys.Instances(name) {
			row(inst+" service", sys.ServiceURL(inst)+"  (/healthz /readyz /metrics)")
		}
		if db := sys.DatabaseURL(name); db != "" {
			dbs = append(dbs, db)
		}
	}
	if stack.MailpitHasUI() {
		row("Mail (web UI)", sys.MailAPIURL()+"  (every mail sent; REST API under /api/v1)")
	} else {
		row("Mailpit API", sys.MailAPIURL()+"/api/v1/messages  (REST API only: npm was missing when make tools built Mailpit)")
	}
	row("Mailpit SMTP", fmt.Sprintf("%s:%d", sys.Mailpit().SMTPHost(), sys.Mailpit().SMTPPort()))
	if ui := sys.TraceUIURL(); ui != "" {
		// The Go module ships no UI bundle: Jaeger serves a placeholder
		// page, and the query API.
		row("Traces API", ui+"/api/traces?service=order&limit=1  (Jaeger's query API; its web UI is in the Docker image only)")
	} else if ep := sys.OTLPEndpoint(); ep != "" {
		row("Traces", traceUI+"  (services send spans to "+ep+"; search by service order)")
	} else {
		row("Traces", "off: no collector given (see below)")
	}
	row("NATS", sys.NATS().URL()+"  (no anonymous access; development users below)")
	row("NATS admin", redactPassword(sys.NATSUserURL(natsauth.UserAdmin))+"  (password "+natsauth.DevPassword(natsauth.UserAdmin)+")")
	row("NATS read-only", redactPassword(sys.NATSUserURL(natsauth.UserReader))+"  (password "+natsauth.DevPassword(natsauth.UserReader)+")")
	row("NATS monitoring", sys.NATS().MonitorURL())
	for i, db := range dbs {
		label := ""
		if i == 0 {
			label = "PostgreSQL"
		}
		row(label, db)
	}
	b.WriteString("\nPlace an order:  scripts/place-order.sh   (ITEMS=GRINDER-HAND:50 for one the stock cannot cover)\n")
	b.WriteString("Follow it:       scripts/order-status.sh <order id>\n")
	b.WriteString("Read the mail:   curl " + sys.MailAPIURL() + "/api/v1/messages\n")
	if sys.OTLPEndpoint() == "" {
		b.WriteString("See its trace:   make run RUN_FLAGS=-jaeger   (builds Jaeger once, ~6 min: its query API, no web UI)\n" +
			"                 or any collector with an OTLP/HTTP receiver, e.g. docker compose up -d jaeger,\n" +
			"                 then: OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 make run\n")
	}
	b.WriteString("\n")
	fmt.Fprint(w, b.String())
}
