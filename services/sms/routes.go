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
	store    *Store
	registry *prometheus.Registry
	ready    *web.Readiness
	keys     *auth.Keys
}

// newServer returns the service's HTTP handler: every route, on the shared
// router (logging, metrics, recovery; problem+json 404 and 405).
func newServer(logger *slog.Logger, deps serverDeps) http.Handler {
	r := web.NewRouter(logger, deps.registry)
	addRoutes(r, logger, deps)
	return r
}

// addRoutes is the one place listing every route of the service. The
// listing holds personal data (recipients) of every customer: it needs
// operator:read. The operational routes stay open, for probes and
// scrapers.
func addRoutes(r chi.Router, logger *slog.Logger, deps serverDeps) {
	r.With(auth.Require(deps.keys, auth.RoleOperatorRead)).Method(http.MethodGet, "/v1/messages", handleListMessages(logger, deps.store))

	r.Method(http.MethodGet, "/healthz", web.HandleHealthz())
	r.Method(http.MethodGet, "/readyz", deps.ready)
	r.Method(http.MethodGet, "/metrics", web.HandleMetrics(deps.registry))
}
