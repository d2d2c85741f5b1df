package launcher

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"strings"
	"sync"

	"github.com/orderbus/orderbus/pkg/stack"
)

// System is a running orderbus system started by Start. Its methods are
// safe for concurrent use.
type System struct {
	cfg      Config
	pg       Database
	ownPG    *stack.Postgres // the cluster Start started, if it did
	dbPrefix string
	binDir   string // temporary folder of binaries Start built, if any
	nats     Broker
	mailpit  MailCatcher
	jaeger   *stack.Jaeger      // Config.Jaeger's, else nil
	cluster  *stack.NATSCluster // Config.NATSCluster's, else nil (then nats is it)
	services map[string]*service
	proxies  *proxies

	mu     sync.Mutex
	closed bool
}

// Start starts a system: PostgreSQL (unless cfg.Postgres is given) with a
// database per service, nats-server with JetStream (sync_interval: always),
// Mailpit, and the services, and returns once every service's /readyz
// answers 200. On failure it stops whatever it started and returns an error
// holding the tail of every process's log; an error wrapping ErrPortInUse
// means a fixed or overridden port was taken, and nothing was started.
func Start(ctx context.Context, cfg Config) (*System, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ports := append([]string{PortNATS, PortNATSMonitor, PortSMTP, PortMailpit}, cfg.Services...)
	for _, name := range cfg.Services {
		for k := 2; k <= cfg.instances(name); k++ {
			if cfg.instancePort(name, k) != 0 {
				cfg.Ports = maps.Clone(cfg.Ports)
				if cfg.Ports == nil {
					cfg.Ports = map[string]int{}
				}
				cfg.Ports[InstanceName(name, k)] = cfg.instancePort(name, k)
				ports = append(ports, InstanceName(name, k))
			}
		}
	}
	if cfg.Postgres == nil {
		ports = append(ports, PortPostgres)
	}
	if cfg.Jaeger {
		ports = append(ports, PortJaegerUI, PortJaegerOTLP, PortJaegerGRPC)
	}
	if err := cfg.checkPorts(ports); err != nil {
		return nil, fmt.Errorf("start system: %w", err)
	}
	s := &System{cfg: cfg, pg: cfg.Postgres, services: map[string]*service{}}
	if err := s.start(ctx); err != nil {
		err = fmt.Errorf("start system: %w\n%s", err, s.Logs())
		if cerr := s.Close(context.WithoutCancel(ctx)); cerr != nil {
			err = errors.Join(err, cerr)
		}
		return nil, err
	}
	return s, nil
}

func (s *System) start(ctx context.Context) error {
	log := s.cfg.Logger
	bins, err := s.binaries(ctx)
	if err != nil {
		return err
	}
	if s.pg == nil {
		log.Info("starting postgres")
		s.ownPG, err = stack.StartPostgres(ctx, stack.PostgresConfig{
			Port: s.cfg.port(PortPostgres), Output: s.cfg.Output, Logger: log,
		})
		if err != nil {
			return err
		}
		s.pg = s.ownPG
	} else {
		s.dbPrefix = "e2e_" + randomHex(4) + "_"
	}
	if s.cfg.Infrastructure != nil {
		if s.nats, err = s.cfg.Infrastructure.StartBroker(ctx); err != nil {
			return err
		}
		if s.mailpit, err = s.cfg.Infrastructure.StartMailCatcher(ctx); err != nil {
			return err
		}
	} else {
		if s.cfg.NATSCluster {
			if err := s.startNATSCluster(ctx); err != nil {
				return err
			}
		} else if s.nats, err = stack.StartNATS(ctx, stack.NATSConfig{
			Port: s.cfg.port(PortNATS), MonitorPort: s.cfg.port(PortNATSMonitor),
			SyncAlways: true, Auth: &stack.NATSAuth{}, Output: s.cfg.Output, Logger: log,
		}); err != nil {
			return err
		}
		if s.mailpit, err = stack.StartMailpit(ctx, stack.MailpitConfig{
			SMTPPort: s.cfg.port(PortSMTP), HTTPPort: s.cfg.port(PortMailpit),
			Output: s.cfg.Output, Logger: log,
		}); err != nil {
			return err
		}
	}
	if err := s.provisionStreams(ctx); err != nil {
		return err
	}
	if err := s.startJaeger(ctx); err != nil {
		return err
	}
	if err := s.startProxies(); err != nil {
		return err
	}
	known := catalog()
	for _, name := range s.cfg.Services {
		var database string
		if spec := known[name]; spec.database != "" {
			database = s.dbPrefix + spec.database
			first := &service{name: name, base: name, spec: spec, database: database}
			if err := s.createDatabase(ctx, first); err != nil {
				return err
			}
		}
		for k := 1; k <= s.cfg.instances(name); k++ {
			svc := &service{name: InstanceName(name, k), base: name, spec: known[name], bin: bins[name],
				port: s.cfg.instancePort(name, k), database: database}
			if svc.port == 0 {
				if svc.port, err = stack.FreePort(); err != nil {
					return err
				}
			}
			s.services[svc.name] = svc
		}
	}
	// Start every first instance before waiting for any: they migrate and
	// connect in parallel. Further instances start once the first is ready,
	// so that two processes never run one database's migrations at once.
	for _, name := range s.cfg.Services {
		if err := s.launch(ctx, s.services[name]); err != nil {
			return err
		}
	}
	for _, name := range s.cfg.Services {
		if err := s.waitReady(ctx, s.services[name]); err != nil {
			return err
		}
	}
	var more []string
	for _, name := range s.cfg.instanceNames() {
		if s.services[name].base != name {
			more = append(more, name)
			if err := s.launch(ctx, s.services[name]); err != nil {
				return err
			}
		}
	}
	for _, name := range more {
		if err := s.waitReady(ctx, s.services[name]); err != nil {
			return err
		}
	}
	return nil
}

// binaries returns cfg.Binaries completed by building what is missing.
func (s *System) binaries(ctx context.Context) (map[string]string, error) {
	bins := map[string]string{}
	var missing []string
	for _, name := range s.cfg.Services {
		if bin := s.cfg.Binaries[name]; bin != "" {
			bins[name] = bin
		} else {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return bins, nil
	}
	dir, err := os.MkdirTemp("", "orderbus-bin-")
	if err != nil {
		return nil, fmt.Errorf("build services: %w", err)
	}
	s.binDir = dir
	s.cfg.Logger.Info("building services", "services", missing)
	built, err := Build(ctx, dir, missing...)
	if err != nil {
		return nil, err
	}
	for name, bin := range built {
		bins[name] = bin
	}
	return bins, nil
}

// Services returns the names of the system's services, in start order.
func (s *System) Services() []string { return append([]string(nil), s.cfg.Services...) }

// ServiceURL returns the base URL of a service's HTTP server, such as
// http://127.0.0.1:8080, or "" if the system does not run that service.
func (s *System) ServiceURL(name string) string {
	svc, ok := s.services[name]
	if !ok {
		return ""
	}
	return fmt.Sprintf("http://127.0.0.1:%d", svc.port)
}

// OrderURL returns the base URL of the order service.
func (s *System) OrderURL() string { return s.ServiceURL("order") }

// OTLPEndpoint returns where the services send their spans (see
// Config.OTLPEndpoint), "" when tracing is off.
func (s *System) OTLPEndpoint() string { return s.cfg.OTLPEndpoint }

// MailAPIURL returns the base URL of the mail catcher's API, for mailcatch.New.
func (s *System) MailAPIURL() string { return s.mailpit.APIURL() }

// NATS returns the system's NATS server, to stop and restart it.
func (s *System) NATS() Broker { return s.nats }

// Mailpit returns the system's mail catcher (Mailpit, or in a container
// MailHog), to stop and restart it.
func (s *System) Mailpit() MailCatcher { return s.mailpit }

// Postgres returns the server holding the system's databases.
func (s *System) Postgres() Database { return s.pg }

// LocalPostgres returns the PostgreSQL cluster Start started for the
// system (to crash and start it again), or nil when Config.Postgres was
// given.
func (s *System) LocalPostgres() *stack.Postgres { return s.ownPG }

// DatabaseURL returns the URL of a service's database as the service's own
// role (on a server the system can create roles on), or "" if the system
// does not run that service or the service has no database (the console).
func (s *System) DatabaseURL(name string) string {
	svc, ok := s.services[name]
	if !ok || svc.database == "" {
		return ""
	}
	return s.databaseURL(svc)
}

// Close stops the services (SIGTERM, so they shut down gracefully, all at
// once), then Mailpit and nats-server, then PostgreSQL if Start started it,
// and removes their temporary folders. It returns every error met; a
// service that exits other than cleanly on SIGTERM is one. Closing twice
// does nothing.
func (s *System) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()

	names := s.cfg.instanceNames()
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		if svc := s.services[name]; svc != nil {
			wg.Go(func() { errs[i] = svc.stop(ctx) })
		}
	}
	wg.Wait()
	s.closeProxies()
	if s.jaeger != nil {
		errs = append(errs, s.jaeger.Close(ctx))
	}
	if s.mailpit != nil {
		errs = append(errs, s.mailpit.Close(ctx))
	}
	if s.nats != nil {
		errs = append(errs, s.nats.Close(ctx))
	}
	if s.ownPG != nil {
		errs = append(errs, s.ownPG.Stop(ctx))
	}
	if s.binDir != "" {
		errs = append(errs, os.RemoveAll(s.binDir))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close system: %w", err)
	}
	return nil
}

// Logs returns the last lines of every process's output (infrastructure
// first, then each run of each service), for failure messages.
func (s *System) Logs() string {
	var b strings.Builder
	section := func(title string, p *stack.Process, lines int) {
		if p == nil {
			return
		}
		status := "running"
		select {
		case <-p.Exited():
			status = fmt.Sprintf("exited: %v", p.Err())
		default:
		}
		fmt.Fprintf(&b, "==== %s (pid %d, %s), last %d lines ====\n%s\n", title, p.Pid(), status, lines, p.Tail(lines))
	}
	infra := func(title string, v any, lines int) {
		if p := processOf(v); p != nil {
			section(title, p, lines)
		} else if c, ok := v.(logTailer); ok {
			fmt.Fprintf(&b, "==== %s (container), last %d lines ====\n%s\n", title, lines, c.LogTail(lines))
		}
	}
	if s.ownPG != nil {
		section("postgres", s.ownPG.Process(), 30)
	}
	if s.cluster != nil {
		for _, n := range s.cluster.Nodes() {
			section(n.Name(), n.Process(), 20)
		}
	} else if s.nats != nil {
		infra("nats", s.nats, 30)
	}
	if s.mailpit != nil {
		infra("mail catcher", s.mailpit, 30)
	}
	if s.jaeger != nil {
		section("jaeger", s.jaeger.Process(), 30)
	}
	for _, name := range s.cfg.instanceNames() {
		svc := s.services[name]
		if svc == nil {
			continue
		}
		runs := svc.history()
		for i, p := range runs {
			lines := 40
			if i == len(runs)-1 {
				lines = 100
			}
			section(fmt.Sprintf("%s run %d/%d", name, i+1, len(runs)), p, lines)
		}
	}
	return b.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
