// Command healthcheck is the HEALTHCHECK of the orderbus service images.
// The runtime image (distroless static) has no shell, wget or curl, so
// this static binary, built in the same Dockerfile, does their job: it
// GETs the service's readiness endpoint on the loopback interface and
// exits 0 when the answer is 200, 1 otherwise.
//
// Usage:
//
//	healthcheck            GET http://127.0.0.1:<port of HTTP_ADDR>/readyz
//	healthcheck /healthz   another path on the same port
//	healthcheck URL        any absolute http URL
//
// The port comes from HTTP_ADDR, the variable the service listens on, so
// the check follows the service wherever it is told to listen. When
// HTTP_ADDR is unset, the service's own default applies; the Dockerfile
// bakes it in at link time (-X main.defaultAddr), read from the service's
// config struct.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// defaultAddr is the service's default HTTP_ADDR, set by the Dockerfile
// with -ldflags "-X main.defaultAddr=:8080".
var defaultAddr string

// timeout bounds the whole check; Docker's own --timeout should be larger.
const timeout = 2 * time.Second

func main() {
	if err := run(os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		os.Exit(1)
	}
}

func run(args []string, getenv func(string) string) error {
	if len(args) > 1 {
		return fmt.Errorf("want at most one argument (a path or URL), got %d", len(args))
	}
	target := "/readyz"
	if len(args) == 1 {
		target = args[0]
	}
	url, err := checkURL(target, getenv("HTTP_ADDR"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// checkURL returns the URL to GET: target itself when it is absolute,
// else target as a path on the loopback address and the port of httpAddr
// (or of defaultAddr when httpAddr is empty).
func checkURL(target, httpAddr string) (string, error) {
	if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
		return target, nil
	}
	if !strings.HasPrefix(target, "/") {
		return "", fmt.Errorf("%q: want a path starting with / or an http URL", target)
	}
	addr := httpAddr
	if addr == "" {
		addr = defaultAddr
	}
	if addr == "" {
		return "", fmt.Errorf("HTTP_ADDR is not set and no default was built in: pass a URL")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("HTTP_ADDR %q: %w", addr, err)
	}
	// A wildcard listener answers on loopback; a specific address only
	// on itself.
	switch host {
	case "", "0.0.0.0", "::":
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + target, nil
}
