package web

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/httprate"
)

// RateLimitSettings are the shared settings of the per-client rate limits
// of a service's costly routes (placing orders, requesting erasures); the
// number of requests each allows is the service's own setting.
type RateLimitSettings struct {
	// Window is the sliding window the limits count requests in; the
	// Retry-After of a refused request is its length in seconds.
	Window time.Duration `env:"RATE_LIMIT_WINDOW" envDefault:"1m"`
	// IPHeader names a header that a trusted proxy in front of the service
	// sets to the client's address (X-Forwarded-For, X-Real-IP: the first
	// address is used). Empty: the connection's remote address, the only
	// safe choice without such a proxy, since a client can send any header.
	IPHeader string `env:"RATE_LIMIT_IP_HEADER"`
}

// Validate returns an error when the window is under a second (Retry-After
// counts whole seconds).
func (s RateLimitSettings) Validate() error {
	if s.Window < time.Second {
		return fmt.Errorf("RATE_LIMIT_WINDOW %s: want at least 1s", s.Window)
	}
	return nil
}

// LogValue logs the settings.
func (s RateLimitSettings) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("rate_limit_window", s.Window.String()),
		slog.String("rate_limit_ip_header", s.IPHeader),
	)
}

// RateLimit lets each client make at most limit requests per s.Window
// through the handler it wraps, counted per client address (ClientIP);
// limit <= 0 turns it off. A refused request answers 429
// ProblemRateLimited with Retry-After before the handler runs, so nothing
// of it is stored. Counts are kept in the process: with several
// instances behind a balancer, each counts its own share.
func RateLimit(limit int, s RateLimitSettings) func(http.Handler) http.Handler {
	if limit <= 0 {
		return func(h http.Handler) http.Handler { return h }
	}
	return httprate.Limit(limit, s.Window,
		httprate.WithKeyFuncs(func(r *http.Request) (string, error) {
			return httprate.CanonicalizeIP(ClientIP(r, s.IPHeader)), nil
		}),
		httprate.WithLimitHandler(func(w http.ResponseWriter, r *http.Request) {
			WriteProblem(w, r, NewProblem(ProblemRateLimited, http.StatusTooManyRequests,
				"Too many requests from this client; retry after the number of seconds in Retry-After."))
		}),
		httprate.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
			WriteProblem(w, r, NewProblem(ProblemInternal, http.StatusInternalServerError,
				"The server could not check its rate limit."))
		}),
	)
}

// ClientIP returns the client's address: the first address in header when
// header is set and present in r (a trusted proxy's), else the host of
// r.RemoteAddr.
func ClientIP(r *http.Request, header string) string {
	if header != "" {
		if v := r.Header.Get(header); v != "" {
			first, _, _ := strings.Cut(v, ",")
			if ip := net.ParseIP(strings.TrimSpace(first)); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
