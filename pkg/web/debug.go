package web

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// DebugHandler serves the net/http/pprof profiles under /debug/pprof/.
// Mount it only on a loopback listener (ServeDebug): profiles expose the
// process's internals.
func DebugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// CheckDebugAddr returns an error unless addr is host:port with host a
// loopback IP literal (127.0.0.1, ::1...) or "localhost": the debug
// endpoint must never be reachable from another machine. An empty addr
// (debugging off) is valid.
func CheckDebugAddr(addr string) error {
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("debug address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("debug address %q: host must be a loopback address such as 127.0.0.1", addr)
}

// ServeDebug serves DebugHandler on addr until ctx is done, like Serve.
// With addr empty it does nothing and waits for ctx (debugging off). It
// returns an error when addr is not loopback-only (CheckDebugAddr), when it
// cannot listen, or when serving fails.
func ServeDebug(ctx context.Context, logger *slog.Logger, addr string) error {
	if addr == "" {
		<-ctx.Done()
		return nil
	}
	if err := CheckDebugAddr(addr); err != nil {
		return err
	}
	return Serve(ctx, logger.With("listener", "debug"), addr, DebugHandler(), 5*time.Second)
}
