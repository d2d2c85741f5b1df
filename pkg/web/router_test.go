package web

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
)

func TestHandleNotFound(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	HandleNotFound().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/nope", nil))
	p := response{Response: rec.Result(), body: rec.Body.Bytes()}.problem(t)
	if rec.Code != 404 || p.Type != ProblemNotFound || p.Instance != "/nope" {
		t.Fatalf("got %d %+v", rec.Code, p)
	}
}

func TestNewRouter(t *testing.T) {
	t.Parallel()
	r := NewRouter(slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	r.Method(http.MethodGet, "/v1/things/{id}", ok)
	r.Method(http.MethodPut, "/v1/things/{id}", ok)
	r.Group(func(r chi.Router) {
		r.Use(func(next http.Handler) http.Handler { return next })
		r.Method(http.MethodPost, "/v1/grouped", ok)
	})

	tests := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantAllow  string
		wantType   string
	}{
		{name: "route served", method: http.MethodGet, path: "/v1/things/a", wantStatus: http.StatusNoContent},
		{name: "unknown path", method: http.MethodGet, path: "/v1/nope", wantStatus: http.StatusNotFound, wantType: ProblemNotFound},
		{name: "method not allowed", method: http.MethodDelete, path: "/v1/things/a", wantStatus: http.StatusMethodNotAllowed, wantAllow: "GET, PUT", wantType: "about:blank"},
		{name: "method not allowed in a group", method: http.MethodGet, path: "/v1/grouped", wantStatus: http.StatusMethodNotAllowed, wantAllow: "POST", wantType: "about:blank"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if got := rec.Header().Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
			if tt.wantType == "" {
				return
			}
			p := response{Response: rec.Result(), body: rec.Body.Bytes()}.problem(t)
			if p.Type != tt.wantType || p.Status != tt.wantStatus || p.Instance != tt.path {
				t.Errorf("problem = %+v", p)
			}
		})
	}
}
