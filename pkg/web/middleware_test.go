package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// newTestRouter wires the middleware the way a service does.
func newTestRouter(logger *slog.Logger, reg *prometheus.Registry) http.Handler {
	r := chi.NewRouter()
	r.Use(Logging(logger), Metrics(reg), Recover(logger))
	r.NotFound(HandleNotFound())
	r.Method(http.MethodGet, "/metrics", HandleMetrics(reg))
	r.Get("/v1/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		Encode(w, http.StatusOK, map[string]string{"id": chi.URLParam(r, "id"), "request_id": RequestID(r.Context())})
	})
	r.Route("/v1/customers/{id}", func(r chi.Router) {
		r.Get("/orders", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	})
	r.Method(http.MethodGet, "/readyz", HandleReadyz(map[string]Check{
		"broker": func(context.Context) error { return errors.New("not yet") }}))
	r.Get("/panic", func(http.ResponseWriter, *http.Request) { panic("kaboom") })
	r.Get("/panic-after-write", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("partial"))
		panic("late kaboom")
	})
	r.Get("/abort", func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	return r
}

func get(t *testing.T, srv *httptest.Server, path string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// findLog returns the first record whose msg is msg.
func findLog(t *testing.T, logs *logBuffer, msg string) map[string]any {
	t.Helper()
	for _, rec := range logs.Lines(t) {
		if rec["msg"] == msg {
			return rec
		}
	}
	t.Fatalf("no %q log record in %v", msg, logs.Lines(t))
	return nil
}

func TestLogging(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		path      string
		requestID string // sent in X-Request-Id
		wantID    string // "" = a generated one
		status    int
		route     string
		level     string
	}{
		{name: "incoming id kept", path: "/v1/orders/o-123?customer_id=alice%40example.com", requestID: "req-42.a:b_c", wantID: "req-42.a:b_c", status: 200, route: "/v1/orders/{id}", level: "INFO"},
		{name: "no id generated", path: "/v1/orders/o-123", status: 200, route: "/v1/orders/{id}", level: "INFO"},
		{name: "unsafe id replaced", path: "/v1/orders/o-123", requestID: "evil id\" injected", status: 200, route: "/v1/orders/{id}", level: "INFO"},
		{name: "overlong id replaced", path: "/v1/orders/o-123", requestID: strings.Repeat("a", 129), status: 200, route: "/v1/orders/{id}", level: "INFO"},
		{name: "nested route", path: "/v1/customers/alice/orders", status: 204, route: "/v1/customers/{id}/orders", level: "INFO"},
		{name: "unmatched", path: "/alice@example.com", status: 404, route: "unmatched", level: "INFO"},
		{name: "server error", path: "/panic", status: 500, route: "/panic", level: "WARN"},
		{name: "readiness probe", path: "/readyz", status: 503, route: "/readyz", level: "DEBUG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logger, logs := newTestLogger()
			srv := httptest.NewServer(newTestRouter(logger, prometheus.NewRegistry()))
			t.Cleanup(srv.Close)
			header := http.Header{}
			if tt.requestID != "" {
				header.Set(RequestIDHeader, tt.requestID)
			}
			resp, body := get(t, srv, tt.path, header)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			id := resp.Header.Get(RequestIDHeader)
			switch {
			case tt.wantID != "" && id != tt.wantID:
				t.Errorf("echoed request id = %q, want %q", id, tt.wantID)
			case tt.wantID == "" && (len(id) != 26 || id == tt.requestID):
				t.Errorf("echoed request id = %q, want a generated one", id)
			}
			if tt.status == 200 && !strings.Contains(body, `"request_id":"`+id+`"`) {
				t.Errorf("handler saw another request id than %q: %s", id, body)
			}
			rec := findLog(t, logs, "http request")
			want := map[string]any{"method": "GET", "route": tt.route, "status": float64(tt.status), "request_id": id, "level": tt.level}
			for k, v := range want {
				if rec[k] != v {
					t.Errorf("log %s = %v, want %v (record %v)", k, rec[k], v, rec)
				}
			}
			if n, _ := rec["bytes"].(float64); tt.status != 204 && n <= 0 {
				t.Errorf("log bytes = %v, want > 0", rec["bytes"])
			}
			if _, ok := rec["duration_ms"].(float64); !ok {
				t.Errorf("log lacks duration_ms: %v", rec)
			}
			for _, rec := range logs.Lines(t) {
				for _, leak := range []string{"o-123", "alice", "example.com"} {
					for k, v := range rec {
						if s, ok := v.(string); ok && strings.Contains(s, leak) {
							t.Errorf("log %s = %q leaks %q from the path or query", k, s, leak)
						}
					}
				}
			}
		})
	}
}

func TestRecover(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantBody   string
		wantPanic  string
	}{
		{name: "panic before writing", path: "/panic", wantStatus: 500, wantBody: ProblemInternal, wantPanic: "kaboom"},
		{name: "panic after writing", path: "/panic-after-write", wantStatus: 200, wantBody: "partial", wantPanic: "late kaboom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logger, logs := newTestLogger()
			srv := httptest.NewServer(newTestRouter(logger, prometheus.NewRegistry()))
			t.Cleanup(srv.Close)
			resp, body := get(t, srv, tt.path, nil)
			if resp.StatusCode != tt.wantStatus || !strings.Contains(body, tt.wantBody) {
				t.Fatalf("got %d %q, want %d with %q", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
			if tt.wantStatus == 500 && resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("content type = %q", resp.Header.Get("Content-Type"))
			}
			rec := findLog(t, logs, "panic serving request")
			if rec["panic"] != tt.wantPanic || rec["level"] != "ERROR" || rec["route"] != tt.path ||
				!strings.Contains(rec["stack"].(string), "middleware_test.go") {
				t.Errorf("panic log = %v", rec)
			}
			if strings.Contains(body, "middleware_test.go") {
				t.Errorf("stack leaked to the client: %s", body)
			}
		})
	}
}

func TestRecoverLetsAbortHandlerThrough(t *testing.T) {
	t.Parallel()
	logger, logs := newTestLogger()
	srv := httptest.NewServer(newTestRouter(logger, prometheus.NewRegistry()))
	t.Cleanup(srv.Close)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/abort", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got status %d, want the connection aborted", resp.StatusCode)
	}
	for _, rec := range logs.Lines(t) {
		if rec["msg"] == "panic serving request" {
			t.Fatalf("an aborted response was logged as a panic: %v", rec)
		}
	}
}
