package compose

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/orderbus/orderbus/pkg/mailcatch"
)

// TestComposeSmoke runs what the README promises: `docker compose up
// --build --wait`, an order placed with scripts/place-order.sh (curl), its
// receipt in the mail catcher, `docker compose down -v`. It needs a Docker
// engine with Compose v2.24 or later and skips without one; it builds the
// six service images, so it takes minutes (skipped with -short).
//
// The stack runs as its own project, with every published port moved to a
// free one (an override file), so neither a running `make up` nor
// `make run` is disturbed. MAIL_CATCHER_IMAGE is passed on, so Mailpit can
// stand in for the amd64-only MailHog image.
func TestComposeSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every image and starts the stack in Docker: not with -short")
	}
	requireDocker(t)
	root := repoRoot(t)
	project := "orderbus-smoke-" + randomHex(4)
	override := writePortOverride(t, loadProject(t, nil))
	compose := func(ctx context.Context, args ...string) (string, error) {
		full := append([]string{"compose", "--project-directory", root,
			"-f", filepath.Join(root, "docker-compose.yml"), "-f", override, "-p", project}, args...)
		cmd := exec.CommandContext(ctx, "docker", full...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		if err != nil {
			err = fmt.Errorf("docker %s: %w", strings.Join(full, " "), err)
		}
		return out.String(), err
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if t.Failed() {
			logs, _ := compose(ctx, "logs", "--no-color", "--tail", "40")
			t.Logf("docker compose logs:\n%s", logs)
		}
		start := time.Now()
		if out, err := compose(ctx, "down", "--volumes", "--remove-orphans"); err != nil {
			t.Errorf("%v\n%s", err, out)
		}
		t.Logf("down -v in %v", time.Since(start).Round(100*time.Millisecond))
	})

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Minute)
	defer cancel()
	start := time.Now()
	if out, err := compose(ctx, "up", "--build", "--detach", "--wait"); err != nil {
		t.Fatalf("%v\n%s", err, tail(out, 60))
	}
	t.Logf("up --build --wait in %v", time.Since(start).Round(100*time.Millisecond))

	orderURL := "http://" + publishedAddr(ctx, t, compose, "order", 8080)
	mailURL := "http://" + publishedAddr(ctx, t, compose, mailService, 8025)

	email := "smoke-" + randomHex(4) + "@example.com"
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "scripts", "place-order.sh"))
	cmd.Env = append(os.Environ(), "ORDERS_URL="+orderURL, "CUSTOMER_EMAIL="+email)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/place-order.sh: %v\n%s", err, out)
	}
	placed := time.Now()

	mc, err := mailcatch.New(ctx, mailURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		msgs, err := mc.Messages(ctx)
		if err != nil {
			seen = []string{err.Error()}
			continue
		}
		seen = seen[:0]
		for _, m := range msgs {
			if slices.Contains(m.To, email) && strings.Contains(m.Subject, "received") {
				t.Logf("receipt %q to %s in %s after %v", m.Subject, email, mc.Name(), time.Since(placed).Round(10*time.Millisecond))
				return
			}
			seen = append(seen, fmt.Sprintf("%q to %v", m.Subject, m.To))
		}
	}
	t.Fatalf("no receipt to %s within 60s; the catcher (%s) holds: %v", email, mc.Name(), seen)
}

// requireDocker skips t unless a Docker engine answers and the compose
// plugin is there.
func requireDocker(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").CombinedOutput(); err != nil {
		t.Skipf("no Docker engine answers (docker version: %v: %s): the compose smoke test needs Docker",
			err, strings.TrimSpace(string(out)))
	}
	if out, err := exec.CommandContext(ctx, "docker", "compose", "version").CombinedOutput(); err != nil {
		t.Skipf("Docker answers but has no compose plugin (%v: %s): the compose smoke test needs Docker Compose v2",
			err, strings.TrimSpace(string(out)))
	}
}

// writePortOverride writes a compose file that publishes every port of p
// on a free loopback port instead of its fixed one, and returns its path.
func writePortOverride(t *testing.T, proj *types.Project) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("services:\n")
	for _, name := range slices.Sorted(maps.Keys(proj.Services)) {
		ports := proj.Services[name].Ports
		if len(ports) == 0 {
			continue
		}
		fmt.Fprintf(&b, "  %s:\n    ports: !override\n", name)
		for _, pc := range ports {
			fmt.Fprintf(&b, "      - \"127.0.0.1::%d\"\n", pc.Target)
		}
	}
	path := filepath.Join(t.TempDir(), "ports.override.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// publishedAddr returns host:port where service's container port is
// published.
func publishedAddr(ctx context.Context, t *testing.T, compose func(context.Context, ...string) (string, error), service string, port int) string {
	t.Helper()
	out, err := compose(ctx, "port", service, fmt.Sprint(port))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	addr := strings.TrimSpace(out)
	if i := strings.LastIndex(addr, "\n"); i >= 0 {
		addr = addr[i+1:] // compose may print warnings first
	}
	return addr
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
