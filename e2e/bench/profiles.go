package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/orderbus/orderbus/e2e/launcher"
	"github.com/orderbus/orderbus/pkg/stack"
)

// debugEnv adds DEBUG_ADDR on a free loopback port to env for each of
// the system's services that has a debug listener, and returns the
// addresses by service.
func debugEnv(env map[string]map[string]string) (map[string]string, error) {
	addrs := map[string]string{}
	for _, name := range launcher.DefaultServices() {
		if !launcher.HasDebugListener(name) {
			continue
		}
		port, err := stack.FreePort()
		if err != nil {
			return nil, fmt.Errorf("bench: debug port: %w", err)
		}
		addrs[name] = "127.0.0.1:" + strconv.Itoa(port)
		if env[name] == nil {
			env[name] = map[string]string{}
		}
		env[name]["DEBUG_ADDR"] = addrs[name]
	}
	return addrs, nil
}

// profiling is a set of CPU profiles being taken, one per service.
type profiling struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
}

// startProfiles asks each service in addrs for a CPU profile of d and
// writes it to dir/<service>.pprof as it arrives; wait returns the
// failures.
func startProfiles(ctx context.Context, addrs map[string]string, dir string, d time.Duration) *profiling {
	p := &profiling{}
	for name, addr := range addrs {
		p.wg.Go(func() {
			if err := fetchProfile(ctx, addr, filepath.Join(dir, name+".pprof"), d); err != nil {
				p.mu.Lock()
				p.errs = append(p.errs, fmt.Errorf("cpu profile of %s: %w", name, err))
				p.mu.Unlock()
			}
		})
	}
	return p
}

// wait waits for every profile and returns the failures, joined.
func (p *profiling) wait() error {
	p.wg.Wait()
	return errors.Join(p.errs...)
}

// fetchProfile saves the CPU profile of d served at addr into path.
func fetchProfile(ctx context.Context, addr, path string, d time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	profile, err := stack.Get(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, max(1, int(d.Seconds()))))
	if err != nil {
		return err
	}
	return os.WriteFile(path, profile, 0o644)
}
