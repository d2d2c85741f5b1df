package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/orderbus/orderbus/pkg/web"
)

// TestRoutesAnswerProblems checks that the router answers an unsupported
// method on a route with 405 problem+json naming the allowed methods, and
// an unknown path with 404 problem+json.
func TestRoutesAnswerProblems(t *testing.T) {
	t.Parallel()
	srv := newServer(slog.New(slog.NewTextHandler(io.Discard, nil)), serverDeps{registry: web.NewRegistry()})
	tests := []struct {
		name, method, path string
		status             int
		allow              string
	}{
		{name: "delete mails", method: http.MethodDelete, path: "/v1/mails", status: http.StatusMethodNotAllowed, allow: "GET"},
		{name: "post readyz", method: http.MethodPost, path: "/readyz", status: http.StatusMethodNotAllowed, allow: "GET"},
		{name: "unknown path", method: http.MethodGet, path: "/v1/nothing", status: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.status {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, rec.Code, rec.Body, tt.status)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q, want application/problem+json", ct)
			}
			if got := rec.Header().Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
			var p struct {
				Status int `json:"status"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != tt.status {
				t.Errorf("body %s: want a problem with status %d (%v)", rec.Body, tt.status, err)
			}
		})
	}
}
