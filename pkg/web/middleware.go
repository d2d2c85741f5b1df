package web

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// RequestIDHeader carries the request id in and out of a service.
const RequestIDHeader = "X-Request-Id"

type requestIDKey struct{}

// RequestID returns the request id Logging stored in ctx, or "" outside a
// request that went through Logging.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// Logging logs one line per request when it ends: method, chi route pattern
// (never the raw path or query, which may hold personal data), status,
// response bytes, duration and request id. The id is taken from an incoming
// X-Request-Id header when it is a short token, otherwise generated; it is
// echoed in the response header and available to handlers via RequestID.
// Bodies are never logged. 5xx responses log at warn, the rest at info;
// /healthz, /readyz and /metrics log at debug whatever their status, since
// orchestrators and scrapers poll them all the time and a 503 from /readyz
// is its answer (its body says why), not a failure of the server.
// Install it with the chi router's Use, outside Metrics and Recover.
func Logging(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			id := r.Header.Get(RequestIDHeader)
			if !validRequestID(id) {
				id = rand.Text()
			}
			w.Header().Set(RequestIDHeader, id)
			r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)

			next.ServeHTTP(ww, r)

			status := statusOf(ww)
			level := slog.LevelInfo
			switch {
			case isProbe(r.URL.Path):
				level = slog.LevelDebug
			case status >= 500:
				level = slog.LevelWarn
			}
			logger.LogAttrs(r.Context(), level, "http request",
				slog.String("method", r.Method),
				slog.String("route", routePattern(r)),
				slog.Int("status", status),
				slog.Int("bytes", ww.BytesWritten()),
				slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
				slog.String("request_id", id))
		})
	}
}

// isProbe reports whether path is one polled by orchestrators and scrapers.
func isProbe(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	return false
}

// validRequestID accepts 1 to 128 characters from a conservative set, so a
// client cannot inject log lines or huge values through the header.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// Recover turns a panic in a handler into a logged error (with the panic
// value and stack) and a 500 ProblemInternal, if nothing was written yet.
// http.ErrAbortHandler is re-panicked: it is net/http's way to abort a
// response on purpose. Install it inside Logging and Metrics so they
// record the 500.
func Recover(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			defer func() {
				rec := recover()
				if rec == nil {
					return
				}
				if rec == http.ErrAbortHandler {
					panic(rec)
				}
				logger.LogAttrs(r.Context(), slog.LevelError, "panic serving request",
					slog.String("method", r.Method),
					slog.String("route", routePattern(r)),
					slog.String("request_id", RequestID(r.Context())),
					slog.String("panic", fmt.Sprint(rec)),
					slog.String("stack", string(debug.Stack())))
				if ww.Status() == 0 {
					WriteProblem(ww, r, NewProblem(ProblemInternal, http.StatusInternalServerError,
						"The server could not complete the request; it has been logged."))
				}
			}()
			next.ServeHTTP(ww, r)
		})
	}
}

// routePattern returns the chi route pattern that matched r, such as
// "/v1/orders/{id}", or "unmatched" when no route did (a 404): never the
// raw path, whose values are unbounded and may be personal data.
func routePattern(r *http.Request) string {
	if rctx := chi.RouteContext(r.Context()); rctx != nil {
		if p := rctx.RoutePattern(); p != "" {
			return p
		}
	}
	return "unmatched"
}

// statusOf returns the status sent through ww; a handler that wrote
// nothing has implicitly answered 200.
func statusOf(ww middleware.WrapResponseWriter) int {
	if s := ww.Status(); s != 0 {
		return s
	}
	return http.StatusOK
}
