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
	r.Use(web.Recover(logger), web.Logging(logger), web.Metrics(reg))
	r.NotFound(web.HandleNotFound())

	r.Method(http.MethodGet, "/healthz", web.HandleHealthz())
	r.Method(http.MethodGet, "/readyz", web.HandleReadyz(checks))
	r.Method(http.MethodGet, "/metrics", web.HandleMetrics(reg))
	r.Method(http.MethodGet, "/v1/mails", handleListMails(logger, store))
	return r
}
