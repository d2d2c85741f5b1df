package main

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderbus/orderbus/pkg/auth"
	"github.com/orderbus/orderbus/pkg/web"
)

// serverDeps is what the HTTP handlers need.
type serverDeps struct {
	store    *Store
	placer   *placer
	metrics  *metrics
	registry *prometheus.Registry
	ready    *web.Readiness
	keys     *auth.Keys
	// rateLimitOrders (per rateLimit.Window) and the order token's TTL
	// come from RATE_LIMIT_ORDERS, RATE_LIMIT_* and ORDER_TOKEN_TTL.
	rateLimitOrders int
	rateLimit       web.RateLimitSettings
	orderTokenTTL   time.Duration
}

// newServer returns the service's HTTP handler: every route, on the shared
// router (logging, metrics, recovery; problem+json 404 and 405).
func newServer(logger *slog.Logger, deps serverDeps) http.Handler {
	r := web.NewRouter(logger, deps.registry)
	addRoutes(r, logger, deps)
	return r
}

// addRoutes is the one place listing every route of the service. Placing
// an order is open (guest checkout) but rate-limited per client; its 202
// holds an order token. Reading needs a token: the customer's own (an
// order token reads its one order) or one with operator:read; another
// customer's order answers 404. The operational routes stay open, for
// probes and scrapers.
func addRoutes(r chi.Router, logger *slog.Logger, deps serverDeps) {
	r.With(web.RateLimit(deps.rateLimitOrders, deps.rateLimit), auth.Authenticate(deps.keys)).
		Method(http.MethodPost, "/v1/orders", handleCreateOrder(logger, deps.placer, deps.metrics,
			deps.keys, deps.orderTokenTTL))
	r.With(auth.RequireCustomerOr(deps.keys, auth.RoleOperatorRead)).Method(http.MethodGet, "/v1/orders", handleListOrders(logger, deps.store))
	r.With(auth.RequireCustomerOr(deps.keys, auth.RoleOperatorRead)).Method(http.MethodGet, "/v1/orders/{id}", handleGetOrder(logger, deps.store))

	r.Method(http.MethodGet, "/healthz", web.HandleHealthz())
	r.Method(http.MethodGet, "/readyz", deps.ready)
	r.Method(http.MethodGet, "/metrics", web.HandleMetrics(deps.registry))
}
