package main

import (
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderbus/orderbus/pkg/auth"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/web"
)

// serverDeps is what the HTTP handlers need.
type serverDeps struct {
	store        *Store
	relay        *outbox.Relay
	metrics      *metrics
	registry     *prometheus.Registry
	ready        *web.Readiness
	keys         *auth.Keys
	rateLimit    web.RateLimitSettings
	erasureLimit int // erasure requests per client and rateLimit.Window
	participants []string
}

// newServer returns the service's HTTP handler: every route, on the shared
// router (logging, metrics, recovery; problem+json 404 and 405).
func newServer(logger *slog.Logger, deps serverDeps) http.Handler {
	r := web.NewRouter(logger, deps.registry)
	addRoutes(r, logger, deps)
	return r
}

// addRoutes is the one place listing every route of the service.
// Requesting an erasure needs erasure:write, or the customer's own token
// for its own erasure (the handler checks; another customer's answers
// 403), and is rate-limited per client (after authentication, so that
// refused credentials use up no one's allowance); reading one needs erasure:write or
// operator:read, or the customer's own token (another's answers 404). The
// operational routes stay open, for probes and scrapers.
func addRoutes(r chi.Router, logger *slog.Logger, deps serverDeps) {
	r.With(auth.RequireCustomerOr(deps.keys, auth.RoleErasureWrite), web.RateLimit(deps.erasureLimit, deps.rateLimit)).
		Method(http.MethodPost, "/v1/erasures", handleCreateErasure(logger, deps.store, deps.relay, deps.metrics,
			deps.participants))
	r.With(auth.RequireCustomerOr(deps.keys, auth.RoleErasureWrite, auth.RoleOperatorRead)).
		Method(http.MethodGet, "/v1/erasures/{id}", handleGetErasure(logger, deps.store))

	r.Method(http.MethodGet, "/healthz", web.HandleHealthz())
	r.Method(http.MethodGet, "/readyz", deps.ready)
	r.Method(http.MethodGet, "/metrics", web.HandleMetrics(deps.registry))
}
