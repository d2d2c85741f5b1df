package web

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// DefaultReadinessInterval is how often a Readiness refreshes its checks.
const DefaultReadinessInterval = time.Second

// Readiness runs a service's readiness checks in the background, every
// interval, and answers /readyz from the last result: a poll of /readyz,
// however frequent and by whoever, costs no database or broker round
// trip. Until the first run has finished it answers 503 "starting".
type Readiness struct {
	checks   map[string]Check
	interval time.Duration

	mu   sync.RWMutex
	last *ReadyzResponse
	code int
	at   time.Time
}

// NewReadiness returns a Readiness for checks refreshed every interval
// (DefaultReadinessInterval when <= 0). Start its Run.
func NewReadiness(checks map[string]Check, interval time.Duration) *Readiness {
	if interval <= 0 {
		interval = DefaultReadinessInterval
	}
	return &Readiness{checks: checks, interval: interval}
}

// Run refreshes the result at once and then every interval until ctx is
// done; it returns nil.
func (rd *Readiness) Run(ctx context.Context) error {
	t := time.NewTicker(rd.interval)
	defer t.Stop()
	for {
		resp, code := runChecks(ctx, rd.checks, ReadyzTimeout)
		rd.mu.Lock()
		rd.last, rd.code, rd.at = &resp, code, time.Now()
		rd.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// ServeHTTP answers the last result (see HandleReadyz for its shape), with
// an Age header in seconds.
func (rd *Readiness) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	rd.mu.RLock()
	last, code, at := rd.last, rd.code, rd.at
	rd.mu.RUnlock()
	w.Header().Set("Cache-Control", "no-store")
	if last == nil {
		Encode(w, http.StatusServiceUnavailable, ReadyzResponse{Status: "starting", Checks: map[string]CheckResult{}})
		return
	}
	w.Header().Set("Age", formatAge(time.Since(at)))
	Encode(w, code, last)
}

func formatAge(d time.Duration) string {
	return strconv.Itoa(max(0, int(d/time.Second)))
}
