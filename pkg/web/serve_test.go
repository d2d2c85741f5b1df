package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// startServe runs serve on a fresh loopback listener and returns its base
// URL and the channel serve's result arrives on.
func startServe(t *testing.T, ctx context.Context, h http.Handler, timeout time.Duration) (string, <-chan error) {
	t.Helper()
	return startServeWith(t, ctx, h, timeout, ServerSettings{})
}

// startServeWith is startServe with settings.
func startServeWith(t *testing.T, ctx context.Context, h http.Handler, timeout time.Duration, settings ServerSettings) (string, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- serve(ctx, slog.New(slog.DiscardHandler), ln, h, timeout, settings) }()
	return "http://" + ln.Addr().String(), done
}

// waitFor polls cond every 10ms until it holds or the deadline passes.
func waitFor(t *testing.T, what string, deadline time.Duration, cond func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out after %s waiting for %s", deadline, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type result struct {
	status int
	body   string
	err    error
}

func fetch(ctx context.Context, url string) result {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return result{err: err}
	}
	// A fresh transport per call: a kept-alive connection would hide
	// whether the server still accepts new ones.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, body: string(b), err: err}
}

func TestServeLetsInFlightRequestFinish(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		// The request's context must survive the shutdown signal.
		fmt.Fprintf(w, "finished, ctx err: %v", r.Context().Err())
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	url, done := startServe(t, ctx, h, 10*time.Second)

	inflight := make(chan result, 1)
	go func() { inflight <- fetch(t.Context(), url+"/slow") }()
	<-entered
	cancel()

	waitFor(t, "the server to stop accepting connections", 5*time.Second, func() bool {
		_, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "http://"), time.Second)
		return err != nil
	})
	select {
	case err := <-done:
		t.Fatalf("serve returned %v while a request was in flight", err)
	default:
	}

	close(release)
	res := <-inflight
	if res.err != nil || res.status != 200 || res.body != "finished, ctx err: <nil>" {
		t.Fatalf("in-flight request: %+v", res)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve = %v, want nil after a clean shutdown", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not return after the last request finished")
	}
}

func TestServeShutdownTimeout(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(release) })
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		close(entered)
		<-release
	})
	ctx, cancel := context.WithCancel(t.Context())
	url, done := startServe(t, ctx, h, 100*time.Millisecond)
	inflight := make(chan result, 1)
	go func() { inflight <- fetch(t.Context(), url+"/stuck") }()
	<-entered
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("serve = %v, want a shutdown deadline error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not give up at its shutdown timeout")
	}
	if res := <-inflight; res.err == nil {
		t.Fatalf("stuck request got %+v, want its connection closed", res)
	}
}

func TestServe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		addr    func(t *testing.T) string
		wantErr string
	}{
		{name: "serves until canceled", addr: func(t *testing.T) string {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			ln.Close()
			return addr
		}},
		{name: "bad address", addr: func(*testing.T) string { return "127.0.0.1:99999" }, wantErr: "listen on 127.0.0.1:99999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr := tt.addr(t)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- Serve(ctx, slog.New(slog.DiscardHandler), addr, HandleHealthz(), 0) }()
			if tt.wantErr != "" {
				if err := <-done; err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Serve = %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			waitFor(t, "/healthz", 5*time.Second, func() bool {
				return fetch(t.Context(), "http://"+addr+"/healthz").status == 200
			})
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("Serve = %v, want nil", err)
			}
		})
	}
}

// A connection that has sent no request yet (a client's spare one) does
// not hold the shutdown: Go's Shutdown would wait 5 s for it, past this
// 2 s timeout.
func TestServeShutdownClosesFreshConnections(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	url, done := startServe(t, ctx, http.NotFoundHandler(), 2*time.Second)
	if res := fetch(t.Context(), url+"/"); res.err != nil {
		t.Fatalf("server not serving: %v", res.err)
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	// The server has accepted it once a request sent after it is served.
	if res := fetch(t.Context(), url+"/"); res.err != nil {
		t.Fatalf("server not serving: %v", res.err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve = %v, want a clean shutdown", err)
	}
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Error("the fresh connection is still open after shutdown")
	}
}
