// Package servicetest runs an orderbus service inside its own tests the
// way main runs it: run in a goroutine, configured by a map of
// environment variables, serving on a free port, its log in the test log.
// It also holds the waits and JetStream look-ups the services' tests
// share. Each service keeps its own helpers for what only it has (its
// tables, its events, its fakes).
package servicetest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/stack"
)

// RunFunc is a service's run function, as its main calls it.
type RunFunc func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error

// Timeouts of Start's cleanup and of WaitReady.
const (
	stopTimeout  = 30 * time.Second
	readyTimeout = 30 * time.Second
)

// Service is one run of a service, started by Start.
type Service struct {
	// URL is the service's base URL: "http://" and its HTTP_ADDR.
	URL string
	// Started is when run was started, for tests that time the start-up.
	Started time.Time
	logs    *logWriter
	done    chan struct{} // closed when run has returned
	err     error         // run's result, set before done is closed
}

// Start runs run in a goroutine with the variables in env (nothing else of
// the process environment), adding HTTP_ADDR on a free port of 127.0.0.1
// and AUTH_JWT_KEY = AuthKey unless env sets them, and returns at once:
// see WaitReady. What the service
// writes to stdout and stderr goes to the test log, line by line, and is
// kept for Logs. At cleanup Start cancels run's context and fails the test
// unless run returns nil within 30 s. It fails the test when no port is
// free.
func Start(tb testing.TB, run RunFunc, env map[string]string) *Service {
	tb.Helper()
	vars := maps.Clone(env)
	if vars == nil {
		vars = map[string]string{}
	}
	if vars["AUTH_JWT_KEY"] == "" {
		vars["AUTH_JWT_KEY"] = AuthKey
	}
	if vars["HTTP_ADDR"] == "" {
		port, err := stack.FreePort()
		if err != nil {
			tb.Fatalf("free port: %v", err)
		}
		vars["HTTP_ADDR"] = fmt.Sprintf("127.0.0.1:%d", port)
	}
	s := &Service{URL: "http://" + vars["HTTP_ADDR"], logs: &logWriter{tb: tb}, done: make(chan struct{})}
	tb.Cleanup(s.logs.close) // registered before the stop, so it runs after it

	ctx, cancel := context.WithCancel(context.Background())
	s.Started = time.Now()
	go func() {
		defer close(s.done)
		s.err = run(ctx, nil, func(k string) string { return vars[k] }, s.logs, s.logs)
	}()
	tb.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
			if s.err != nil {
				tb.Errorf("run returned %v after shutdown, want nil", s.err)
			}
		case <-time.After(stopTimeout):
			tb.Errorf("run did not return within %s of shutdown", stopTimeout)
		}
	})
	return s
}

// WaitReady waits until GET /readyz answers 200; see WaitStatus.
func (s *Service) WaitReady(tb testing.TB) {
	tb.Helper()
	s.WaitStatus(tb, "/readyz", http.StatusOK)
}

// WaitStatus waits up to 30 s until GET path answers code. It fails the
// test at the deadline, with the last answer, or as soon as run returns.
func (s *Service) WaitStatus(tb testing.TB, path string, code int) {
	tb.Helper()
	WaitFor(tb, readyTimeout, path+" to answer "+strconv.Itoa(code), func() (bool, string) {
		select {
		case <-s.done:
			tb.Fatalf("run returned before %s answered %d: %v", path, code, s.err)
		default:
		}
		got, body := s.Get(path)
		return got == code, fmt.Sprintf("%d %s", got, body)
	})
}

// Get sends GET path to the service and returns the status and the body;
// status 0 and the error text when the request fails. It is safe in any
// goroutine.
func (s *Service) Get(path string) (int, string) {
	return s.GetAs(path, "")
}

// GetAs is Get with the Authorization header authorization (none when
// ""), such as Token's or Operator's.
func (s *Service) GetAs(path, authorization string) (int, string) {
	client := &http.Client{Timeout: 10 * time.Second}
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		return 0, err.Error()
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// Metric returns the value of the /metrics sample whose series (name and
// labels as exposed, e.g. `sms_messages_total{outcome="sent",provider="log"}`)
// is series, and whether there is one. It fails the test when the value
// does not parse.
func (s *Service) Metric(tb testing.TB, series string) (float64, bool) {
	tb.Helper()
	_, body := s.Get("/metrics")
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				tb.Fatalf("metric %s: %v", series, err)
			}
			return f, true
		}
	}
	return 0, false
}

// Logs returns everything the service has logged so far.
func (s *Service) Logs() string { return s.logs.String() }

// WaitFor polls cond every 20 ms until it reports true, and fails the test
// after timeout with what cond last reported seeing.
func WaitFor(tb testing.TB, timeout time.Duration, what string, cond func() (ok bool, seen string)) {
	tb.Helper()
	WaitEvery(tb, timeout, 20*time.Millisecond, what, cond)
}

// WaitEvery is WaitFor polling every interval, for conditions that cost a
// round trip to several processes.
func WaitEvery(tb testing.TB, timeout, interval time.Duration, what string, cond func() (ok bool, seen string)) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, seen := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s; last seen: %s", timeout, what, seen)
		}
		time.Sleep(interval)
	}
}

// logWriter sends a service's log lines to the test log and keeps them;
// lines written after close (by goroutines outliving the test) are only
// kept, since the test log no longer takes them.
type logWriter struct {
	mu     sync.Mutex
	tb     testing.TB
	buf    strings.Builder
	closed bool
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.tb.Log(strings.TrimSuffix(string(p), "\n"))
	}
	w.buf.Write(p)
	return len(p), nil
}

func (w *logWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func (w *logWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}
