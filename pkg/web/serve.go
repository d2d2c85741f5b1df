package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/net/netutil"
)

// DefaultShutdownTimeout is the shutdown timeout Serve uses when given 0.
const DefaultShutdownTimeout = 20 * time.Second

// Serve is ServeWith with the default ServerSettings.
func Serve(ctx context.Context, logger *slog.Logger, addr string, h http.Handler, shutdownTimeout time.Duration) error {
	return ServeWith(ctx, logger, addr, h, shutdownTimeout, ServerSettings{})
}

// ServeWith listens on addr and serves h within settings (timeouts, header,
// body and connection limits, a deadline on each request's context; zero
// fields take their defaults) until ctx is done, then shuts down
// gracefully: it stops accepting connections and waits up to
// shutdownTimeout (DefaultShutdownTimeout when <= 0) for in-flight requests
// to finish. Requests' contexts are not canceled by ctx, so a request in
// flight at shutdown completes normally. Serve returns nil after a clean
// shutdown; an error when it cannot listen, when serving fails, or when
// requests were still running at the timeout (their connections are then
// closed).
func ServeWith(ctx context.Context, logger *slog.Logger, addr string, h http.Handler, shutdownTimeout time.Duration, settings ServerSettings) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return serve(ctx, logger, ln, h, shutdownTimeout, settings)
}

// serve is ServeWith on a listener it takes ownership of.
func serve(ctx context.Context, logger *slog.Logger, ln net.Listener, h http.Handler, shutdownTimeout time.Duration, settings ServerSettings) error {
	if shutdownTimeout <= 0 {
		shutdownTimeout = DefaultShutdownTimeout
	}
	settings = settings.withDefaults()
	addr := ln.Addr().String()
	ln = netutil.LimitListener(ln, settings.MaxConns)
	fresh := &freshConns{conns: map[net.Conn]struct{}{}}
	srv := &http.Server{
		ConnState:         fresh.track,
		Handler:           settings.bounded(h),
		ReadTimeout:       settings.ReadTimeout,
		ReadHeaderTimeout: settings.ReadHeaderTimeout,
		WriteTimeout:      settings.WriteTimeout,
		IdleTimeout:       settings.IdleTimeout,
		MaxHeaderBytes:    settings.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		// Shutdown, not ctx, ends requests: in-flight work must not be
		// canceled half-way because SIGTERM arrived.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("http server listening", "addr", addr)

	select {
	case err := <-errc:
		return fmt.Errorf("serve http on %s: %w", addr, err)
	case <-ctx.Done():
	}

	logger.Info("http server shutting down", "addr", addr, "timeout", shutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	// Shutdown waits up to 5 s for a connection that has sent no request
	// yet (a client's spare connection): close those at once, since no
	// request of theirs has started.
	fresh.closeAll()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("shut down http server on %s: %w", addr, err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve http on %s: %w", addr, err)
	}
	logger.Info("http server stopped", "addr", addr)
	return nil
}

// freshConns tracks the connections in http.StateNew: accepted, no
// request read yet.
type freshConns struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// track is the server's ConnState hook.
func (f *freshConns) track(c net.Conn, state http.ConnState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if state == http.StateNew {
		f.conns[c] = struct{}{}
		return
	}
	delete(f.conns, c)
}

// closeAll closes every connection still waiting for its first request.
func (f *freshConns) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		_ = c.Close()
		delete(f.conns, c)
	}
}
