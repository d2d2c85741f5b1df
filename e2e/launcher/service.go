package launcher

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/orderbus/orderbus/pkg/stack"
)

// service is one service of a System: its binary, port and database stay
// the same across restarts.
type service struct {
	name     string // the instance's name (see InstanceName)
	base     string // the service's name, the same for every instance
	spec     serviceSpec
	bin      string
	port     int
	database string

	mu   sync.Mutex
	runs []*stack.Process // every process started, the current one last
}

// current returns the service's latest process, or nil if none started.
func (svc *service) current() *stack.Process {
	svc.mu.Lock()
	defer svc.mu.Unlock()
	if len(svc.runs) == 0 {
		return nil
	}
	return svc.runs[len(svc.runs)-1]
}

func (svc *service) history() []*stack.Process {
	svc.mu.Lock()
	defer svc.mu.Unlock()
	return slices.Clone(svc.runs)
}

func running(p *stack.Process) bool {
	if p == nil {
		return false
	}
	select {
	case <-p.Exited():
		return false
	default:
		return true
	}
}

// stop sends SIGTERM and waits; a service must exit with status 0. A
// paused service is resumed first, or it could not act on the SIGTERM.
func (svc *service) stop(ctx context.Context) error {
	p := svc.current()
	if !running(p) {
		return nil
	}
	if err := p.Signal(syscall.SIGCONT); err != nil {
		return fmt.Errorf("stop %s: %w", svc.name, err)
	}
	if err := p.Stop(ctx); err != nil {
		return fmt.Errorf("stop %s: %w", svc.name, err)
	}
	if err := p.Err(); err != nil {
		return fmt.Errorf("stop %s: exited with %w", svc.name, err)
	}
	return nil
}

// launch starts the service's process without waiting for it to be ready.
func (s *System) launch(ctx context.Context, svc *service) error {
	if running(svc.current()) {
		return fmt.Errorf("start %s: already running", svc.name)
	}
	s.cfg.Logger.Info("starting service", "service", svc.name, "url", s.ServiceURL(svc.name))
	p, err := stack.StartProcess(ctx, stack.ProcessConfig{
		Name: svc.name, Path: svc.bin, Env: s.env(svc), Output: s.cfg.Output,
	})
	if err != nil {
		return err
	}
	svc.mu.Lock()
	svc.runs = append(svc.runs, p)
	svc.mu.Unlock()
	return nil
}

// waitReady polls the service's /readyz until it answers 200, the process
// exits, cfg.ReadyTimeout passes or ctx ends.
func (s *System) waitReady(ctx context.Context, svc *service) error {
	p := svc.current()
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ReadyTimeout)
	defer cancel()
	url := s.ServiceURL(svc.name) + "/readyz"
	client := &http.Client{Timeout: 3 * time.Second}
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		err := getOK(ctx, client, url)
		if err == nil {
			s.cfg.Logger.Info("service ready", "service", svc.name)
			return nil
		}
		select {
		case <-p.Exited():
			return fmt.Errorf("%s exited before it was ready: %v", svc.name, p.Err())
		case <-ctx.Done():
			return fmt.Errorf("%s not ready within %v: %w", svc.name, s.cfg.ReadyTimeout, err)
		case <-tick.C:
		}
	}
}

func getOK(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// StopService stops a service with SIGTERM and waits for it to exit. It
// returns an error if the system does not run the service, or the service
// had to be killed or exited with a non-zero status. Stopping a stopped
// service does nothing.
func (s *System) StopService(ctx context.Context, name string) error {
	svc, ok := s.services[name]
	if !ok {
		return fmt.Errorf("stop service: %w", errUnknownService(name))
	}
	s.cfg.Logger.Info("stopping service", "service", name)
	return svc.stop(ctx)
}

// StartService starts a stopped service again, with the same binary, port,
// database and environment, and waits until its /readyz answers 200. It
// returns an error if the system does not run the service, the service is
// running, or it does not become ready (with the tail of its log).
func (s *System) StartService(ctx context.Context, name string) error {
	svc, ok := s.services[name]
	if !ok {
		return fmt.Errorf("start service: %w", errUnknownService(name))
	}
	if err := s.launch(ctx, svc); err != nil {
		return err
	}
	if err := s.waitReady(ctx, svc); err != nil {
		return fmt.Errorf("start service: %w\n%s", err, svc.current().Tail(60))
	}
	return nil
}

// Process returns the current process of a service, or nil when the
// system does not run it; it changes when the service is restarted.
func (s *System) Process(name string) *stack.Process {
	svc, ok := s.services[name]
	if !ok {
		return nil
	}
	return svc.current()
}

// env returns a service's complete environment: a few variables of the
// launcher's own environment, then the common service variables (with
// authEnv's), then the service's own, then Config.Env (the same for every
// instance).
func (s *System) env(svc *service) []string {
	vars := map[string]string{
		"HTTP_ADDR":  "127.0.0.1:" + strconv.Itoa(svc.port),
		"NATS_URL":   s.viaProxy(svc.base, DependencyNATS, s.nats.URL()),
		"LOG_LEVEL":  "info",
		"LOG_FORMAT": "text",
	}
	if svc.database != "" {
		vars["DATABASE_URL"] = s.viaProxy(svc.base, DependencyPostgres, s.databaseURL(svc))
	}
	maps.Copy(vars, natsEnv(svc.base))
	maps.Copy(vars, authEnv())
	if s.cfg.OTLPEndpoint != "" {
		vars["OTEL_EXPORTER_OTLP_ENDPOINT"] = s.cfg.OTLPEndpoint
		vars["OTEL_BSP_SCHEDULE_DELAY"] = "200"
	}
	maps.Copy(vars, s.clusterEnv())
	if svc.spec.env != nil {
		maps.Copy(vars, svc.spec.env(s))
	}
	maps.Copy(vars, s.cfg.Env[svc.base])
	// Only these are inherited, so a DATABASE_URL or NATS_URL in the
	// caller's shell cannot leak into a service.
	var env []string
	for _, key := range []string{"PATH", "HOME", "TMPDIR", "TZ", "LANG", "GOTRACEBACK"} {
		if v, ok := os.LookupEnv(key); ok {
			env = append(env, key+"="+v)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(vars)) {
		env = append(env, key+"="+vars[key])
	}
	return env
}
