package main

import (
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderbus/orderbus/pkg/auth"
	"github.com/orderbus/orderbus/pkg/web"
)

// serverDeps is what the HTTP handlers need.
type serverDeps struct {
	registry *prometheus.Registry
	state    *state
	hub      *hub
	// done closes when the console shuts down, ending the event streams
	// (the server's shutdown waits for open requests).
	done    <-chan struct{}
	redrive *redriver
	// keys verify the operator tokens of the redrive.
	keys   *auth.Keys
	checks map[string]web.Check
}

// newServer returns the console's HTTP handler: every route, on the
// shared router (logging, metrics, recovery; problem+json 404 and 405).
func newServer(logger *slog.Logger, deps serverDeps) http.Handler {
	r := web.NewRouter(logger, deps.registry)
	addRoutes(r, logger, deps)
	return r
}

// addRoutes is the one place listing every route of the console.
func addRoutes(r chi.Router, logger *slog.Logger, deps serverDeps) {
	r.Method(http.MethodGet, "/", handlePage())
	r.Method(http.MethodGet, "/ui/*", handleAssets())
	r.Method(http.MethodGet, "/v1/snapshot", handleSnapshot(deps.state))
	r.Method(http.MethodGet, "/v1/stream", handleStream(logger, deps.state, deps.hub, deps.done))
	r.With(auth.Require(deps.keys, auth.RoleDLQWrite)).
		Method(http.MethodPost, "/v1/dead-letters/{seq}/redrive", handleRedrive(logger, deps.redrive))

	r.Method(http.MethodGet, "/healthz", web.HandleHealthz())
	r.Method(http.MethodGet, "/readyz", web.HandleReadyz(deps.checks))
	r.Method(http.MethodGet, "/metrics", web.HandleMetrics(deps.registry))
}
