package web

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/orderbus/orderbus/pkg/promreg"
)

// NewRegistry returns a Prometheus registry holding the Go runtime and
// process collectors, the usual base for a service's /metrics.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// HandleMetrics serves the metrics in reg in the Prometheus exposition
// formats. A collector that fails is reported in the scrape's errors and
// counted in promhttp_metric_handler_errors_total; the others are still
// served.
func HandleMetrics(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		Registry:      reg,
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// Metrics records every request in http_requests_total and
// http_request_duration_seconds, labelled by method, chi route pattern
// ("unmatched" for 404s; never the raw path, so cardinality stays bounded)
// and status code. The collectors are registered in reg (nil: not
// registered); calling Metrics again with the same reg reuses them. It
// panics, like prometheus.MustRegister, if reg already holds different
// collectors under these names. Install it with the chi router's Use.
func Metrics(reg prometheus.Registerer) func(http.Handler) http.Handler {
	labels := []string{"method", "route", "status"}
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total",
		Help: "HTTP requests served, by method, route pattern and status code.",
	}, labels)
	durations := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "http_request_duration_seconds",
		Help:    "Time to serve HTTP requests, by method, route pattern and status code.",
		Buckets: prometheus.DefBuckets,
	}, labels)
	if reg != nil {
		requests = mustRegisterOrReuse(reg, requests)
		durations = mustRegisterOrReuse(reg, durations)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)

			next.ServeHTTP(ww, r)

			values := []string{methodLabel(r.Method), routePattern(r), strconv.Itoa(statusOf(ww))}
			requests.WithLabelValues(values...).Inc()
			durations.WithLabelValues(values...).Observe(time.Since(start).Seconds())
		})
	}
}

func mustRegisterOrReuse[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	c, err := promreg.Register(reg, c)
	if err != nil {
		panic(fmt.Sprintf("web: http metrics: %v", err))
	}
	return c
}

// methodLabel keeps the method label to the standard methods, so a client
// sending made-up methods cannot grow the label set.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}
