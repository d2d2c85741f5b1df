package main

import (
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderbus/orderbus/pkg/web"
)

// newServer returns the service's HTTP handler: every route is listed here.
func newServer(logger *slog.Logger, reg *prometheus.Registry, store *Store, checks map[string]web.Check) http.Handler {
	r := chi.NewRouter()
	// Outermost first, so that logging and metrics see the 500 that Recover
	// writes for a panic (see pkg/web).
	r.Use(web.Logging(logger), web.Metrics(reg), web.Recover(logger))
	r.NotFound(web.HandleNotFound())

	r.Method(http.MethodGet, "/healthz", web.HandleHealthz())
	r.Method(http.MethodGet, "/readyz", web.HandleReadyz(checks))
	r.Method(http.MethodGet, "/metrics", web.HandleMetrics(reg))
	r.Method(http.MethodGet, "/v1/mails", handleListMails(logger, store))
	return r
}
