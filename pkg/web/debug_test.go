package web

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestCheckDebugAddr(t *testing.T) {
	for _, addr := range []string{"", "127.0.0.1:6060", "[::1]:6060", "localhost:0", "127.0.0.2:1"} {
		if err := CheckDebugAddr(addr); err != nil {
			t.Errorf("CheckDebugAddr(%q) = %v, want nil", addr, err)
		}
	}
	for _, addr := range []string{":6060", "0.0.0.0:6060", "[::]:6060", "10.0.0.1:6060", "example.com:6060", "127.0.0.1"} {
		if err := CheckDebugAddr(addr); err == nil {
			t.Errorf("CheckDebugAddr(%q) = nil, want an error", addr)
		}
	}
}

func TestServeDebugRefusesNonLoopback(t *testing.T) {
	err := ServeDebug(context.Background(), slog.New(slog.DiscardHandler), ":0")
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("ServeDebug(:0) = %v, want a loopback error", err)
	}
}

func TestServeDebugOffWaitsForContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeDebug(ctx, slog.New(slog.DiscardHandler), "") }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ServeDebug(\"\") = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ServeDebug(\"\") did not return after its context ended")
	}
}

func TestServeDebugServesProfiles(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeDebug(ctx, slog.New(slog.DiscardHandler), addr) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeDebug: %v", err)
		}
	})
	var body string
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/debug/pprof/goroutine?debug=1")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", resp.StatusCode)
			}
			body = string(b)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("debug endpoint never answered: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(body, "goroutine profile") {
		t.Fatalf("body %q does not look like a goroutine profile", body[:min(len(body), 200)])
	}
}
