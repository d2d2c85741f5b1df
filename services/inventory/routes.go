package main

import (
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderbus/orderbus/pkg/web"
)

// serverDeps is what the HTTP handlers need.
type serverDeps struct {
	store    *Store
	registry *prometheus.Registry
	checks   map[string]web.Check
}

// newServer returns the service's HTTP handler: every route, wrapped in the
// shared logging, metrics and recovery middleware.
func newServer(logger *slog.Logger, deps serverDeps) http.Handler {
	r := chi.NewRouter()
	r.Use(web.Logging(logger), web.Metrics(deps.registry), web.Recover(logger))
	addRoutes(r, logger, deps)
	return r
}

// addRoutes is the one place listing every route of the service.
func addRoutes(r chi.Router, logger *slog.Logger, deps serverDeps) {
	r.NotFound(web.HandleNotFound())
	r.MethodNotAllowed(handleMethodNotAllowed())

	r.Method(http.MethodGet, "/v1/stock", handleListStock(logger, deps.store))
	r.Method(http.MethodGet, "/v1/stock/{sku}", handleGetStock(logger, deps.store))
	r.Method(http.MethodPut, "/v1/stock/{sku}", handleSetStock(logger, deps.store))

	r.Method(http.MethodGet, "/healthz", web.HandleHealthz())
	r.Method(http.MethodGet, "/readyz", web.HandleReadyz(deps.checks))
	r.Method(http.MethodGet, "/metrics", web.HandleMetrics(deps.registry))
}

// handleMethodNotAllowed answers 405 as problem+json; chi has already set
// the Allow header.
func handleMethodNotAllowed() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		web.WriteProblem(w, r, web.NewProblem("", http.StatusMethodNotAllowed,
			"The method is not allowed on this resource; see the Allow header."))
	}
}
