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
// (a database, the message broker) can be used, and should honour ctx. An
// error made by Degraded reports a state worth showing that does not make
// the service unready (a consumer paused while its SMTP server is down).
type Check func(ctx context.Context) error

// degradedError marks a check result as degraded rather than failed.
type degradedError struct{ err error }

func (e *degradedError) Error() string { return e.err.Error() }
func (e *degradedError) Unwrap() error { return e.err }

// Degraded marks err, returned by a Check, as a degraded state: the check
// is reported with status "degraded" and err's text, and the service stays
// ready (200), with the top-level status "degraded" unless another check
// fails. Use it for what an operator should see but an orchestrator must
// not act on by restarting the service or taking it out of rotation.
// Degraded(nil) returns nil.
func Degraded(err error) error {
	if err == nil {
		return nil
	}
	return &degradedError{err: err}
}

// IsDegraded reports whether err, or an error it wraps, was made by Degraded.
func IsDegraded(err error) bool {
	var d *degradedError
	return errors.As(err, &d)
}

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
	// Status is "ok", "degraded" (see Degraded) or "error".
	Status string `json:"status"`
	// Error is the check's error text, or "timeout after 2s"; for a
	// degraded check, what is degraded and why.
	Error string `json:"error,omitempty"`
	// DurationMS is how long the check ran, in milliseconds.
	DurationMS float64 `json:"duration_ms"`
}

// ReadyzResponse is the /readyz response body.
type ReadyzResponse struct {
	// Status is "unavailable" when a check failed, else "degraded" when a
	// check reported a degraded state, else "ok".
	Status string `json:"status"`
	// Checks holds each check's result by name.
	Checks map[string]CheckResult `json:"checks"`
}

// HandleReadyz runs all checks concurrently, each with ReadyzTimeout, and
// answers 200 when all pass or are degraded (see Degraded) or 503 when any
// fails, times out or panics, with a ReadyzResponse listing every check. The response holds the checks'
// error texts: /readyz is for operators, and no logger sees them otherwise.
// A check that ignores its context is abandoned at the timeout.
func HandleReadyz(checks map[string]Check) http.Handler {
	return handleReadyz(checks, ReadyzTimeout)
}

func handleReadyz(checks map[string]Check, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, status := runChecks(r.Context(), checks, timeout)
		w.Header().Set("Cache-Control", "no-store")
		Encode(w, status, resp)
	})
}

// runChecks runs checks concurrently, each within timeout, and returns the
// response and its status (200, or 503 when a check failed).
func runChecks(ctx context.Context, checks map[string]Check, timeout time.Duration) (ReadyzResponse, int) {
	resp := ReadyzResponse{Status: "ok", Checks: make(map[string]CheckResult, len(checks))}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for name, check := range checks {
		wg.Go(func() {
			res := runCheck(ctx, check, timeout)
			mu.Lock()
			defer mu.Unlock()
			resp.Checks[name] = res
		})
	}
	wg.Wait()
	status := http.StatusOK
	for _, res := range resp.Checks {
		switch res.Status {
		case "ok":
		case "degraded":
			if status == http.StatusOK {
				resp.Status = "degraded"
			}
		default:
			resp.Status, status = "unavailable", http.StatusServiceUnavailable
		}
	}
	return resp, status
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
	switch {
	case err == nil:
	case IsDegraded(err):
		res.Status, res.Error = "degraded", err.Error()
	default:
		res.Status, res.Error = "error", err.Error()
	}
	return res
}
