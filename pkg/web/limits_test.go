package web

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSlowBodyIsCutOff sends a body one byte at a time, slower than the
// read timeout allows: the server answers 408 (Decode sees the read
// deadline) or closes the connection, and does so soon after the timeout.
func TestSlowBodyIsCutOff(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	const readTimeout = 500 * time.Millisecond
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := Decode[map[string]any](w, r, 1<<10)
		if err != nil {
			WriteProblem(w, r, err.(*Problem))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	base, _ := startServeWith(t, ctx, h, time.Second, ServerSettings{ReadTimeout: readTimeout, WriteTimeout: 5 * time.Second, RequestTimeout: 4 * time.Second})
	// start is taken before the dial: the server's read deadline counts
	// from when it begins reading the accepted connection, never earlier.
	start := time.Now()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
	answered := make(chan string, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			answered <- "closed: " + err.Error()
			return
		}
		resp.Body.Close()
		answered <- resp.Status
	}()
	// One byte every 100 ms (the test's "one byte a second", sped up):
	// the body would take 10 s.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case got := <-answered:
			elapsed := time.Since(start)
			if !strings.HasPrefix(got, "408") && !strings.HasPrefix(got, "closed") {
				t.Fatalf("slow body answered %q, want 408 or a closed connection", got)
			}
			if elapsed < readTimeout || elapsed > readTimeout+2*time.Second {
				t.Fatalf("cut off after %s, want about the read timeout %s", elapsed, readTimeout)
			}
			return
		case <-tick.C:
			_, _ = conn.Write([]byte(" "))
		case <-time.After(5 * time.Second):
			t.Fatal("the slow client was not cut off within 5 s")
		}
	}
}

// TestRequestDeadline checks that a handler's context ends at the request
// timeout.
func TestRequestDeadline(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			w.WriteHeader(http.StatusGatewayTimeout)
		case <-time.After(5 * time.Second):
			w.WriteHeader(http.StatusOK)
		}
	})
	base, _ := startServeWith(t, ctx, h, time.Second, ServerSettings{RequestTimeout: 200 * time.Millisecond})
	start := time.Now()
	res := fetch(ctx, base+"/")
	if res.err != nil || res.status != http.StatusGatewayTimeout || time.Since(start) > 3*time.Second {
		t.Fatalf("got %+v after %s, want 504 after about 200ms", res, time.Since(start))
	}
}

// TestBodyAndHeaderLimits checks the server-wide body limit and
// MaxHeaderBytes.
func TestBodyAndHeaderLimits(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	base, _ := startServeWith(t, ctx, h, time.Second, ServerSettings{MaxBodyBytes: 100, MaxHeaderBytes: 1 << 10})
	post := func(n int) int {
		resp, err := http.Post(base+"/", "text/plain", strings.NewReader(strings.Repeat("x", n)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(100); got != http.StatusNoContent {
		t.Errorf("100 bytes: %d", got)
	}
	if got := post(101); got != http.StatusRequestEntityTooLarge {
		t.Errorf("101 bytes: %d, want 413", got)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
	req.Header.Set("X-Big", strings.Repeat("y", 8<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("8 KiB header: %d, want 431", resp.StatusCode)
	}
}

// TestConnectionCap checks that connections beyond MaxConns wait: with a
// cap of 1, a second connection gets no answer while the first is open.
func TestConnectionCap(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	base, _ := startServeWith(t, ctx, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), time.Second,
		ServerSettings{MaxConns: 1})
	addr := strings.TrimPrefix(base, "http://")
	first, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(first, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, err := http.ReadResponse(bufio.NewReader(first), nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("first connection: %v %v", resp, err)
	}
	second, err := net.Dial("tcp", addr) // accepted by the kernel, not served
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(second, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	_ = second.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := http.ReadResponse(bufio.NewReader(second), nil); err == nil {
		t.Fatal("a second connection was served while the cap of 1 was taken")
	}
	// Freeing the slot lets the waiting connection in; closing that one
	// too frees it for a new client.
	first.Close()
	second.Close()
	waitFor(t, "a free slot", 3*time.Second, func() bool {
		res := fetch(ctx, base+"/")
		return res.err == nil && res.status == 200
	})
}

func TestServerSettingsValidate(t *testing.T) {
	t.Parallel()
	if err := (ServerSettings{}).Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	if err := (ServerSettings{ReadTimeout: -1}).Validate(); err == nil || !strings.Contains(err.Error(), "HTTP_READ_TIMEOUT") {
		t.Errorf("negative: %v", err)
	}
	if err := (ServerSettings{RequestTimeout: time.Minute, WriteTimeout: time.Second}).Validate(); err == nil {
		t.Error("request timeout above write timeout accepted")
	}
	if err := (ServerSettings{DebugAddr: "127.0.0.1:6060"}).Validate(); err != nil {
		t.Errorf("loopback DEBUG_ADDR: %v", err)
	}
	if err := (ServerSettings{DebugAddr: "0.0.0.0:6060"}).Validate(); err == nil || !strings.Contains(err.Error(), "DEBUG_ADDR") {
		t.Errorf("DEBUG_ADDR on every interface: %v, want an error naming it", err)
	}
}
