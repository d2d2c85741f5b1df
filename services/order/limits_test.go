package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSlowBodyIsCutOff: a client sending its order one byte at a time
// (every 100 ms here, the test's stand-in for one a second) is answered
// 408 or disconnected once HTTP_READ_TIMEOUT has passed, and nothing is
// stored.
func TestSlowBodyIsCutOff(t *testing.T) {
	t.Parallel()
	const readTimeout = 500 * time.Millisecond
	e := startEnv(t, map[string]string{"HTTP_READ_TIMEOUT": readTimeout.String()})
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := orderBody(t, "0193f1e4-1234-7000-8000-000000000001", "SKU-1")
	start := time.Now()
	fmt.Fprintf(conn, "POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
	answered := make(chan string, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			answered <- "closed"
			return
		}
		resp.Body.Close()
		answered <- resp.Status
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(5 * time.Second)
	for i := 0; ; {
		select {
		case got := <-answered:
			if !strings.HasPrefix(got, "408") && got != "closed" {
				t.Fatalf("slow body answered %q, want 408 or a closed connection", got)
			}
			if elapsed := time.Since(start); elapsed < readTimeout {
				t.Fatalf("cut off after %s, before the read timeout", elapsed)
			}
			if n := e.count(t, "orders"); n != 0 {
				t.Fatalf("orders holds %d rows, want 0", n)
			}
			return
		case <-tick.C:
			if i < len(body)-1 { // never the last byte
				_, _ = conn.Write(body[i : i+1])
				i++
			}
		case <-deadline:
			t.Fatal("the slow client was not cut off within 5 s")
		}
	}
}
