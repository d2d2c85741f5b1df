package main

import (
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/orderbus/orderbus/pkg/servicetest"
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
		{name: "delete messages", method: http.MethodDelete, path: "/v1/messages", status: http.StatusMethodNotAllowed, allow: "GET"},
		{name: "post readyz", method: http.MethodPost, path: "/readyz", status: http.StatusMethodNotAllowed, allow: "GET"},
		{name: "unknown path", method: http.MethodGet, path: "/v1/nothing", status: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			servicetest.CheckProblem(t, srv, tt.method, tt.path, tt.status, tt.allow)
		})
	}
}
