package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCheckURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, target, httpAddr, defaultAddr string
		want, wantErr                       string
	}{
		{name: "port only", target: "/readyz", httpAddr: ":8083", want: "http://127.0.0.1:8083/readyz"},
		{name: "ipv4 wildcard", target: "/readyz", httpAddr: "0.0.0.0:8080", want: "http://127.0.0.1:8080/readyz"},
		{name: "ipv6 wildcard", target: "/readyz", httpAddr: "[::]:8081", want: "http://127.0.0.1:8081/readyz"},
		{name: "specific host", target: "/healthz", httpAddr: "10.1.2.3:9000", want: "http://10.1.2.3:9000/healthz"},
		{name: "built-in default", target: "/readyz", defaultAddr: ":8084", want: "http://127.0.0.1:8084/readyz"},
		{name: "env beats default", target: "/readyz", httpAddr: ":9999", defaultAddr: ":8084", want: "http://127.0.0.1:9999/readyz"},
		{name: "absolute url", target: "http://example.test:1/x", want: "http://example.test:1/x"},
		{name: "no address", target: "/readyz", wantErr: "HTTP_ADDR is not set"},
		{name: "bad address", target: "/readyz", httpAddr: "8080", wantErr: `HTTP_ADDR "8080"`},
		{name: "bad target", target: "readyz", httpAddr: ":1", wantErr: "want a path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := defaultAddr
			defaultAddr = tt.defaultAddr
			defer func() { defaultAddr = old }()
			got, err := checkURL(tt.target, tt.httpAddr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("checkURL() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("checkURL() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" {
			w.WriteHeader(http.StatusOK)
			return
		}
		http.Error(w, "database unreachable", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	getenv := func(k string) string {
		if k == "HTTP_ADDR" {
			return addr
		}
		return ""
	}
	if err := run(nil, getenv); err != nil {
		t.Errorf("run() on a ready service = %v, want nil", err)
	}
	err := run([]string{"/healthz"}, getenv)
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "database unreachable") {
		t.Errorf("run(/healthz) on a 503 = %v, want the status and body", err)
	}
	srv.Close()
	if err := run(nil, getenv); err == nil {
		t.Error("run() with nothing listening = nil, want an error")
	}
}
