package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/orderbus/orderbus/pkg/stack"
)

// defaultProfileTime is Options.ProfileTime when zero.
const defaultProfileTime = 10 * time.Second

// profiled are the services with a debug listener (the console has none).
var profiled = []string{"order", "inventory", "gdpr", "email", "sms"}

// debugEnv adds DEBUG_ADDR on a free loopback port to env for each
// profiled service, and returns the addresses by service.
func debugEnv(env map[string]map[string]string) (map[string]string, error) {
	addrs := map[string]string{}
	for _, name := range profiled {
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
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, max(1, int(d.Seconds())))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
