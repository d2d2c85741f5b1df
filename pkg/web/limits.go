package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Defaults of ServerSettings, used for a zero field (and by Serve).
const (
	DefaultReadTimeout       = 10 * time.Second
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultRequestTimeout    = 15 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultMaxBodyBytes      = 1 << 20
	DefaultMaxConns          = 1024
)

// ServerSettings bound what one client can make a server hold: time to
// send a request, to read the answer, connections, header and body sizes.
// Embed them in a service's Config; a zero field takes its default.
type ServerSettings struct {
	// ReadTimeout bounds reading a whole request, body included: a client
	// that sends its body slowly is cut off (408, or the connection is
	// closed) when it runs out.
	ReadTimeout time.Duration `env:"HTTP_READ_TIMEOUT" envDefault:"10s"`
	// ReadHeaderTimeout bounds reading the request line and headers.
	ReadHeaderTimeout time.Duration `env:"HTTP_READ_HEADER_TIMEOUT" envDefault:"5s"`
	// WriteTimeout bounds the time from the end of the request headers to
	// the end of the response.
	WriteTimeout time.Duration `env:"HTTP_WRITE_TIMEOUT" envDefault:"30s"`
	// IdleTimeout closes a keep-alive connection without a request.
	IdleTimeout time.Duration `env:"HTTP_IDLE_TIMEOUT" envDefault:"2m"`
	// RequestTimeout is the deadline of each request's context: the
	// database and broker calls a handler makes are canceled past it.
	RequestTimeout time.Duration `env:"HTTP_REQUEST_TIMEOUT" envDefault:"15s"`
	// MaxHeaderBytes limits the request line and headers (431 beyond).
	MaxHeaderBytes int `env:"HTTP_MAX_HEADER_BYTES" envDefault:"65536"`
	// MaxBodyBytes limits every request body (413 beyond); a handler may
	// set a lower limit of its own (Decode's limit).
	MaxBodyBytes int64 `env:"HTTP_MAX_BODY_BYTES" envDefault:"1048576"`
	// MaxConns caps the connections served at once; more wait in the
	// listen backlog.
	MaxConns int `env:"HTTP_MAX_CONNS" envDefault:"1024"`
	// DebugAddr, when set, is where the service serves Go's pprof
	// profiles (ServeDebug); it must be a loopback address such as
	// 127.0.0.1:6060 (CheckDebugAddr). Empty: off.
	DebugAddr string `env:"DEBUG_ADDR"`
}

// withDefaults fills zero fields with their defaults.
func (s ServerSettings) withDefaults() ServerSettings {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&s.ReadTimeout, DefaultReadTimeout)
	def(&s.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	def(&s.WriteTimeout, DefaultWriteTimeout)
	def(&s.IdleTimeout, DefaultIdleTimeout)
	def(&s.RequestTimeout, DefaultRequestTimeout)
	if s.MaxHeaderBytes <= 0 {
		s.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if s.MaxBodyBytes <= 0 {
		s.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if s.MaxConns <= 0 {
		s.MaxConns = DefaultMaxConns
	}
	return s
}

// Validate returns an error naming each setting that is negative, a
// request deadline that outlasts the write timeout (its answer could not
// be written), or a debug address that is not loopback-only.
func (s ServerSettings) Validate() error {
	var errs []error
	for name, d := range map[string]time.Duration{
		"HTTP_READ_TIMEOUT": s.ReadTimeout, "HTTP_READ_HEADER_TIMEOUT": s.ReadHeaderTimeout,
		"HTTP_WRITE_TIMEOUT": s.WriteTimeout, "HTTP_IDLE_TIMEOUT": s.IdleTimeout, "HTTP_REQUEST_TIMEOUT": s.RequestTimeout,
	} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s %s: want >= 0 (0 = default)", name, d))
		}
	}
	if s.MaxHeaderBytes < 0 || s.MaxBodyBytes < 0 || s.MaxConns < 0 {
		errs = append(errs, errors.New("HTTP_MAX_HEADER_BYTES, HTTP_MAX_BODY_BYTES and HTTP_MAX_CONNS: want >= 0 (0 = default)"))
	}
	if d := s.withDefaults(); d.RequestTimeout >= d.WriteTimeout {
		errs = append(errs, fmt.Errorf("HTTP_REQUEST_TIMEOUT %s: want below HTTP_WRITE_TIMEOUT %s", d.RequestTimeout, d.WriteTimeout))
	}
	if err := CheckDebugAddr(s.DebugAddr); err != nil {
		errs = append(errs, fmt.Errorf("DEBUG_ADDR: %w", err))
	}
	return errors.Join(errs...)
}

// LogValue logs the settings with their defaults applied.
func (s ServerSettings) LogValue() slog.Value {
	s = s.withDefaults()
	return slog.GroupValue(
		slog.String("http_read_timeout", s.ReadTimeout.String()),
		slog.String("http_read_header_timeout", s.ReadHeaderTimeout.String()),
		slog.String("http_write_timeout", s.WriteTimeout.String()),
		slog.String("http_idle_timeout", s.IdleTimeout.String()),
		slog.String("http_request_timeout", s.RequestTimeout.String()),
		slog.Int("http_max_header_bytes", s.MaxHeaderBytes),
		slog.Int64("http_max_body_bytes", s.MaxBodyBytes),
		slog.Int("http_max_conns", s.MaxConns),
		slog.String("debug_addr", s.DebugAddr),
	)
}

// bounded wraps h with the per-request deadline and the body limit.
func (s ServerSettings) bounded(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.RequestTimeout)
		defer cancel()
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, s.MaxBodyBytes)
		}
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}
