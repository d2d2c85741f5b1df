package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Check is a readiness check: it returns nil when the dependency it checks
// (a database, the message broker) can be used, and should honour ctx.
type Check func(ctx context.Context) error

// ReadyzTimeout is how long HandleReadyz lets each check run.
const ReadyzTimeout = 2 * time.Second

// HandleHealthz answers 200 {"status":"ok"} as long as the process can
// serve HTTP; it checks no dependency (that is /readyz's job), so an
// orchestrator never restarts a service only because its database is down.
func HandleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		Encode(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// CheckResult is one check's outcome in the /readyz response.
type CheckResult struct {
	// Status is "ok" or "error".
	Status string `json:"status"`
	// Error is the check's error text, or "timeout after 2s".
	Error string `json:"error,omitempty"`
	// DurationMS is how long the check ran, in milliseconds.
	DurationMS float64 `json:"duration_ms"`
}

// ReadyzResponse is the /readyz response body.
type ReadyzResponse struct {
	// Status is "ok" when every check passed, else "unavailable".
	Status string `json:"status"`
	// Checks holds each check's result by name.
	Checks map[string]CheckResult `json:"checks"`
}

// HandleReadyz runs all checks concurrently, each with ReadyzTimeout, and
// answers 200 when all pass or 503 when any fails, times out or panics,
// with a ReadyzResponse listing every check. The response holds the checks'
// error texts: /readyz is for operators, and no logger sees them otherwise.
// A check that ignores its context is abandoned at the timeout.
func HandleReadyz(checks map[string]Check) http.Handler {
	return handleReadyz(checks, ReadyzTimeout)
}

func handleReadyz(checks map[string]Check, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp := ReadyzResponse{Status: "ok", Checks: make(map[string]CheckResult, len(checks))}
		var (
			mu sync.Mutex
			wg sync.WaitGroup
		)
		for name, check := range checks {
			wg.Go(func() {
				res := runCheck(r.Context(), check, timeout)
				mu.Lock()
				defer mu.Unlock()
				resp.Checks[name] = res
			})
		}
		wg.Wait()
		status := http.StatusOK
		for _, res := range resp.Checks {
			if res.Status != "ok" {
				resp.Status, status = "unavailable", http.StatusServiceUnavailable
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		Encode(w, status, resp)
	})
}

func runCheck(ctx context.Context, check Check, timeout time.Duration) CheckResult {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1) // buffered: an abandoned check must not block forever
	go func() {
		defer func() {
			if rec := recover(); rec != nil {
				done <- fmt.Errorf("check panicked: %v", rec)
			}
		}()
		done <- check(ctx)
	}()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("timeout after %s", timeout)
		}
	}
	res := CheckResult{Status: "ok", DurationMS: float64(time.Since(start).Microseconds()) / 1000}
	if err != nil {
		res.Status, res.Error = "error", err.Error()
	}
	return res
}
