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

// addRoutes is the one place listing every route of the service. Stock
// levels are public (a shop shows them; they hold no personal data);
// setting them needs stock:write. The operational routes stay open, for
// probes and scrapers.
func addRoutes(r chi.Router, logger *slog.Logger, deps serverDeps) {
	r.Method(http.MethodGet, "/v1/stock", handleListStock(logger, deps.store))
	r.Method(http.MethodGet, "/v1/stock/{sku}", handleGetStock(logger, deps.store))
	r.With(auth.Require(deps.keys, auth.RoleStockWrite)).Method(http.MethodPut, "/v1/stock/{sku}", handleSetStock(logger, deps.store))

	r.Method(http.MethodGet, "/healthz", web.HandleHealthz())
	r.Method(http.MethodGet, "/readyz", deps.ready)
	r.Method(http.MethodGet, "/metrics", web.HandleMetrics(deps.registry))
}
