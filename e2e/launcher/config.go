package launcher

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"time"
)

// Names of the infrastructure ports in Config.Ports; a service's port is
// keyed by the service's name.
const (
	PortPostgres    = "postgres"
	PortNATS        = "nats"
	PortNATSMonitor = "nats-monitor"
	PortSMTP        = "smtp"
	PortMailpit     = "mailpit"
)

// Config describes a system to Start. The zero value runs the default
// services on free ports with a PostgreSQL cluster of its own, building
// the binaries first.
type Config struct {
	// Services names the services to run; empty means DefaultServices.
	Services []string
	// Instances runs that many instances of a service (by name; absent or
	// 1 means one): distinct ports, the same binary, database and durable
	// consumers, so they compete for messages and outbox rows. The first
	// keeps the service's name, the others are InstanceName(name, k).
	Instances map[string]int
	// NATSCluster starts three nats-servers as one JetStream cluster
	// instead of one server (routes on loopback; under Fixed, clients on
	// 4222-4224 and monitoring on 8222-8224), and the services create
	// their streams with three replicas (STREAM_REPLICAS=3) and connect
	// with all three URLs. Not with Infrastructure.
	NATSCluster bool
	// Binaries maps a service name to its binary (see Build). A service
	// without one is built by Start into a temporary folder Close removes.
	Binaries map[string]string
	// Postgres is a running server the system creates its databases on,
	// with a prefix unique to the system, so many systems share it; Close
	// leaves it running. Nil means Start starts a cluster of its own (with
	// fsync on) and Close stops it; its databases then carry no prefix.
	Postgres Database
	// Infrastructure starts the system's NATS server and mail catcher;
	// nil means local processes (nats-server and Mailpit from pkg/stack).
	// The e2e suite passes Docker containers with E2E_INFRA=docker. Fixed
	// and Ports do not apply to what it starts.
	Infrastructure Infrastructure
	// Fixed binds the fixed ports of `make run`: order 8080, inventory
	// 8081, gdpr 8082, email 8083, sms 8084, NATS 4222 (monitoring 8222),
	// Mailpit SMTP 1025 and HTTP 8025, PostgreSQL 5432. Otherwise every
	// port is a free one.
	Fixed bool
	// Ports overrides single ports by name: a service name, or PortPostgres,
	// PortNATS, PortNATSMonitor, PortSMTP, PortMailpit. Start checks every
	// fixed or overridden port is free before it starts anything.
	Ports map[string]int
	// Env holds extra environment variables per service name; they
	// override the launcher's (a short CONSUMER_BACKOFF in a test, say).
	Env map[string]map[string]string
	// Routes places a TCP fault proxy (System.Proxy) between a service and
	// its NATS or PostgreSQL server, for network faults: latency, cut
	// connections. A service and dependency appear at most once.
	Routes []Route
	// OTLPEndpoint, when set, turns tracing on in every service: it is
	// their OTEL_EXPORTER_OTLP_ENDPOINT (the base URL of an OTLP/HTTP
	// receiver, such as Jaeger's http://127.0.0.1:4318), with spans
	// exported every 200ms (OTEL_BSP_SCHEDULE_DELAY) so that a trace shows
	// up at once. Empty leaves tracing off.
	OTLPEndpoint string
	// Jaeger starts a Jaeger (built from the Go module proxy into the tools
	// folder on first use, which takes minutes) on 127.0.0.1 and sets
	// OTLPEndpoint to it; System.TraceUIURL is its query API (no web UI:
	// the Go module has no UI bundle). Its ports are
	// PortJaegerUI, PortJaegerOTLP and PortJaegerGRPC.
	Jaeger bool
	// Output, when set, receives every line every process prints,
	// prefixed with the process's name (for `make run`).
	Output io.Writer
	// ReadyTimeout bounds the wait for each service's /readyz; 0 means 60s.
	ReadyTimeout time.Duration
	// Logger reports progress; nil discards it.
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if len(c.Services) == 0 {
		c.Services = DefaultServices()
	}
	c.Services = sortServices(c.Services)
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = 60 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Output != nil {
		c.Output = &lockedWriter{w: c.Output}
	}
}

// Validate reports unknown or repeated services, and Env or Ports entries
// for names that are not part of the system (usually a typo).
func (c *Config) Validate() error {
	known := catalog()
	var errs []error
	seen := map[string]bool{}
	for _, name := range c.Services {
		if _, ok := known[name]; !ok {
			errs = append(errs, errUnknownService(name))
		}
		if seen[name] {
			errs = append(errs, fmt.Errorf("service %q listed twice", name))
		}
		seen[name] = true
	}
	for _, name := range slices.Sorted(maps.Keys(c.Env)) {
		if !seen[name] {
			errs = append(errs, fmt.Errorf("env for service %q, which is not started", name))
		}
	}
	errs = append(errs, c.validateInstances(seen)...)
	for _, r := range c.Routes {
		if c.NATSCluster && r.Dependency == DependencyNATS {
			errs = append(errs, fmt.Errorf("route %s: a proxy forwards to one server, not to a NATS cluster", r))
		}
	}
	if c.NATSCluster && c.Infrastructure != nil {
		errs = append(errs, errors.New("NATSCluster runs local nats-servers: not with Infrastructure"))
	}
	routed := map[Route]bool{}
	for _, r := range c.Routes {
		if !seen[r.Service] {
			errs = append(errs, fmt.Errorf("route %s: service %q is not started", r, r.Service))
		}
		if r.Dependency != DependencyNATS && r.Dependency != DependencyPostgres {
			errs = append(errs, fmt.Errorf("route %s: dependency %q is neither %s nor %s",
				r, r.Dependency, DependencyNATS, DependencyPostgres))
		}
		if routed[r] {
			errs = append(errs, fmt.Errorf("route %s listed twice", r))
		}
		routed[r] = true
	}
	infra := []string{PortPostgres, PortNATS, PortNATSMonitor, PortSMTP, PortMailpit, PortJaegerUI, PortJaegerOTLP, PortJaegerGRPC}
	for _, name := range slices.Sorted(maps.Keys(c.Ports)) {
		if !seen[name] && !slices.Contains(infra, name) {
			errs = append(errs, fmt.Errorf("port for %q, which is neither a started service nor one of %s",
				name, strings.Join(infra, ", ")))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("launcher config: %w", err)
	}
	return nil
}

// fixedPorts returns the ports of `make run`, by Ports name.
func fixedPorts() map[string]int {
	ports := map[string]int{
		PortPostgres: 5432, PortNATS: 4222, PortNATSMonitor: 8222, PortSMTP: 1025, PortMailpit: 8025,
	}
	for name, spec := range catalog() {
		ports[name] = spec.port
	}
	maps.Copy(ports, jaegerPorts())
	return ports
}

// port returns the port to bind for name: an override, else the fixed
// port under Fixed, else 0 (pick a free one).
func (c *Config) port(name string) int {
	if p := c.Ports[name]; p != 0 {
		return p
	}
	if c.Fixed {
		return fixedPorts()[name]
	}
	return 0
}

// ErrPortInUse is wrapped by Start's error when a fixed or overridden port
// is already taken; errors.AsType[*PortsInUseError] tells which.
var ErrPortInUse = errors.New("port in use")

// PortsInUseError lists the fixed or overridden ports Start found taken,
// by Ports name (a service name, PortPostgres, ...), in the order checked.
type PortsInUseError struct {
	Names []string
	Ports map[string]int
}

func (e *PortsInUseError) Error() string {
	busy := make([]string, len(e.Names))
	for i, name := range e.Names {
		busy[i] = fmt.Sprintf("%d (%s)", e.Ports[name], name)
	}
	return fmt.Sprintf("%v: %s; stop what listens there or choose other ports", ErrPortInUse, strings.Join(busy, ", "))
}

// Unwrap makes errors.Is(err, ErrPortInUse) true.
func (e *PortsInUseError) Unwrap() error { return ErrPortInUse }

// checkPorts returns a *PortsInUseError naming every chosen port that
// cannot be bound on 127.0.0.1 now, before anything is started.
func (c *Config) checkPorts(names []string) error {
	busy := &PortsInUseError{Ports: map[string]int{}}
	for _, name := range names {
		p := c.port(name)
		if p == 0 {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			busy.Names = append(busy.Names, name)
			busy.Ports[name] = p
			continue
		}
		l.Close()
	}
	if len(busy.Names) > 0 {
		return busy
	}
	return nil
}

// lockedWriter serialises writes from the processes' output goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
