package web

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// NewRouter returns the router every service starts its routes from: the
// shared middleware (Logging, Metrics on reg, Recover; outermost first, so
// that logging and metrics see the 500 Recover writes for a panic), and
// problem+json answers for an unknown path (404, HandleNotFound) and for a
// method no route on the path accepts (405, HandleMethodNotAllowed).
func NewRouter(logger *slog.Logger, reg prometheus.Registerer) chi.Router {
	r := chi.NewRouter()
	r.Use(Logging(logger), Metrics(reg), Recover(logger))
	r.NotFound(HandleNotFound())
	r.MethodNotAllowed(HandleMethodNotAllowed(r))
	return r
}

// HandleNotFound answers every request with a 404 ProblemNotFound. Pass it
// to the router's NotFound so unknown paths get problem+json too.
func HandleNotFound() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		WriteProblem(w, r, NewProblem(ProblemNotFound, http.StatusNotFound, "No resource at this path."))
	}
}

// allowCandidates are the methods HandleMethodNotAllowed tries, in the
// order the Allow header lists them.
var allowCandidates = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace,
}

// HandleMethodNotAllowed answers a 405 problem+json with an Allow header
// listing the methods routes accepts on the request's path. Pass it to the
// router's MethodNotAllowed with the router itself: chi sets Allow only in
// its own default 405 handler, not in a custom one.
func HandleMethodNotAllowed(routes chi.Routes) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.RawPath
		if path == "" {
			path = r.URL.Path
		}
		var allowed []string
		for _, m := range allowCandidates {
			if routes.Match(chi.NewRouteContext(), m, path) {
				allowed = append(allowed, m)
			}
		}
		if len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
		}
		WriteProblem(w, r, NewProblem("", http.StatusMethodNotAllowed,
			"The method is not allowed on this resource; see the Allow header."))
	}
}
