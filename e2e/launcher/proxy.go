package launcher

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"

	"github.com/orderbus/orderbus/pkg/stack"
)

// Dependencies a service's connection can be routed through a Proxy to
// (Route.Dependency).
const (
	DependencyNATS     = "nats"
	DependencyPostgres = "postgres"
)

// Route asks Start to place a TCP fault proxy between one service and one
// of its dependencies: the service's NATS_URL or DATABASE_URL then points
// at the proxy, which forwards to the real server.
type Route struct {
	Service    string
	Dependency string // DependencyNATS or DependencyPostgres
}

func (r Route) String() string { return r.Service + "->" + r.Dependency }

// Proxy is a TCP proxy (toxiproxy, embedded) between a service and a
// dependency, placed by Start for a Config.Routes entry. It listens on
// one port for the life of the system, so a restarted service reconnects
// through it. Its methods are safe for concurrent use.
type Proxy struct {
	route Route
	p     *toxiproxy.Proxy
	addr  string

	mu  sync.Mutex
	cut bool
}

// Route returns the service and dependency the proxy sits between.
func (p *Proxy) Route() Route { return p.route }

// Addr returns the proxy's listen address, 127.0.0.1:PORT.
func (p *Proxy) Addr() string { return p.addr }

const latencyToxic = "orderbus-latency"

// AddLatency delays every chunk of data in both directions by latency,
// plus or minus jitter, until RemoveLatency. It returns an error if the
// proxy already adds latency.
func (p *Proxy) AddLatency(latency, jitter time.Duration) error {
	for _, dir := range []string{"upstream", "downstream"} {
		body := fmt.Sprintf(`{"name":%q,"type":"latency","stream":%q,"attributes":{"latency":%d,"jitter":%d}}`,
			latencyToxic+"-"+dir, dir, latency.Milliseconds(), jitter.Milliseconds())
		if _, err := p.p.Toxics.AddToxicJson(strings.NewReader(body)); err != nil {
			return fmt.Errorf("proxy %s: add latency: %w", p.route, err)
		}
	}
	return nil
}

// RemoveLatency removes what AddLatency added; without it, it does nothing.
func (p *Proxy) RemoveLatency(ctx context.Context) error {
	var errs []error
	for _, dir := range []string{"upstream", "downstream"} {
		err := p.p.Toxics.RemoveToxic(ctx, latencyToxic+"-"+dir)
		if err != nil && !errors.Is(err, toxiproxy.ErrToxicNotFound) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("proxy %s: remove latency: %w", p.route, err)
	}
	return nil
}

// Cut closes every connection through the proxy and refuses new ones
// until Restore, as a network partition between the service and its
// dependency would. Cutting a cut proxy does nothing.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.cut {
		p.p.Stop()
		p.cut = true
	}
}

// Restore accepts connections again after Cut, on the same port. It
// returns an error if the port cannot be bound again.
func (p *Proxy) Restore() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.cut {
		return nil
	}
	if err := p.p.Start(); err != nil {
		return fmt.Errorf("proxy %s: restore: %w", p.route, err)
	}
	p.cut = false
	return nil
}

// close stops the proxy for good.
func (p *Proxy) close() { p.p.Stop() }

// proxies holds a system's proxies, keyed by Route.
type proxies struct {
	server *toxiproxy.ApiServer
	byKey  map[Route]*Proxy
}

// startProxies starts one proxy per route, towards the system's NATS or
// PostgreSQL server.
func (s *System) startProxies() error {
	if len(s.cfg.Routes) == 0 {
		return nil
	}
	s.proxies = &proxies{
		server: toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop()),
		byKey:  map[Route]*Proxy{},
	}
	for _, r := range s.cfg.Routes {
		upstream, err := s.upstream(r.Dependency)
		if err != nil {
			return err
		}
		port, err := stack.FreePort()
		if err != nil {
			return err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		tp := toxiproxy.NewProxy(s.proxies.server, r.String(), addr, upstream)
		if err := s.proxies.server.Collection.Add(tp, true); err != nil {
			return fmt.Errorf("start proxy %s: %w", r, err)
		}
		s.proxies.byKey[r] = &Proxy{route: r, p: tp, addr: addr}
		s.cfg.Logger.Info("proxy started", "route", r.String(), "listen", addr, "upstream", upstream)
	}
	return nil
}

// upstream returns host:port of the dependency's server.
func (s *System) upstream(dependency string) (string, error) {
	var raw string
	switch dependency {
	case DependencyNATS:
		raw = s.nats.URL()
	case DependencyPostgres:
		raw = s.pg.URL("postgres")
	default:
		return "", fmt.Errorf("proxy: unknown dependency %q", dependency)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("proxy: parse %s url: %w", dependency, err)
	}
	return u.Host, nil
}

// Proxy returns the proxy between service and dependency, or nil when
// Config.Routes asked for none.
func (s *System) Proxy(service, dependency string) *Proxy {
	if s.proxies == nil {
		return nil
	}
	return s.proxies.byKey[Route{Service: service, Dependency: dependency}]
}

// Proxies returns every proxy of the system, in Config.Routes order.
func (s *System) Proxies() []*Proxy {
	var out []*Proxy
	for _, r := range s.cfg.Routes {
		if p := s.Proxy(r.Service, r.Dependency); p != nil {
			out = append(out, p)
		}
	}
	return out
}

// viaProxy rewrites raw (a NATS or PostgreSQL URL) to go through the
// proxy of svc and dependency, if there is one.
func (s *System) viaProxy(svc, dependency, raw string) string {
	p := s.Proxy(svc, dependency)
	if p == nil {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw // the service reports the malformed URL itself
	}
	u.Host = p.addr
	return u.String()
}

func (s *System) closeProxies() {
	if s.proxies == nil {
		return
	}
	for _, p := range s.proxies.byKey {
		p.close()
	}
}
