package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/orderbus/orderbus/e2e/launcher"
	"github.com/orderbus/orderbus/pkg/stack"
)

// Shared by every test of the run: one PostgreSQL server (each system
// creates its own databases on it) and the service binaries, built once.
var (
	cluster  launcher.Database
	binaries map[string]string
	// infra starts each system's NATS server and mail catcher: nil for
	// local processes, containers with E2E_INFRA=docker.
	infra launcher.Infrastructure
	// skipAll, when set, is why every test that starts a system skips
	// (E2E_INFRA=docker without a Docker engine).
	skipAll string
)

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	flag.Parse()
	// Missing PostgreSQL binaries, a failed build or an unreachable module
	// proxy fail the run: an end-to-end suite that skips proves nothing.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	docker := false
	switch mode := os.Getenv("E2E_INFRA"); mode {
	case "", "local":
	case "docker":
		if err := dockerAnswers(ctx); err != nil {
			skipAll = fmt.Sprintf("E2E_INFRA=docker, but no Docker engine answers (%v): "+
				"start Docker (or set DOCKER_HOST), or run without E2E_INFRA to use local processes", err)
			fmt.Fprintln(os.Stderr, "e2e:", skipAll)
			return m.Run()
		}
		docker = true
	default:
		return fail(fmt.Errorf("E2E_INFRA=%q: want local (processes, the default) or docker (testcontainers)", mode))
	}
	binDir, err := os.MkdirTemp("", "orderbus-e2e-bin-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(binDir)

	start := time.Now()
	built := make(chan error, 1)
	go func() {
		var err error
		binaries, err = launcher.Build(ctx, binDir, launcher.DefaultServices()...)
		built <- err
	}()
	if docker {
		root, err := filepath.Abs("..")
		if err != nil {
			return fail(err)
		}
		images, err := dockerImages(ctx, root)
		if err != nil {
			return fail(err)
		}
		pg, err := startDockerPostgres(ctx, root, images["postgres"])
		if err != nil {
			return fail(err)
		}
		defer func() { _ = pg.Close(context.Background()) }()
		cluster, infra = pg, dockerInfra{root: root, images: images}
	} else {
		for _, tool := range []string{"nats-server", "mailpit"} {
			if _, err := stack.Tool(ctx, tool); err != nil {
				return fail(err)
			}
		}
		pg, err := stack.StartPostgres(ctx, stack.PostgresConfig{Fast: true})
		if err != nil {
			return fail(err)
		}
		defer func() { _ = pg.Stop(context.Background()) }()
		cluster = pg
	}
	if err := <-built; err != nil {
		return fail(err)
	}
	if testing.Verbose() {
		fmt.Printf("e2e: postgres at %s, services built in %v\n", cluster.URL(""), time.Since(start).Round(time.Millisecond))
	}
	return m.Run()
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "e2e: setup failed:", err)
	return 1
}

// newSystem starts a system of the default services for t, with extra
// environment per service, and closes it at cleanup. If t fails, the tail
// of every process's log is printed; a service that does not shut down
// cleanly on SIGTERM fails t.
func newSystem(t *testing.T, env map[string]map[string]string) *launcher.System {
	t.Helper()
	return newSystemWith(t, launcher.Config{Env: env})
}

// newSystemWith is newSystem with more of the launcher's settings (its
// PostgreSQL, infrastructure and binaries are the run's).
func newSystemWith(t *testing.T, cfg launcher.Config) *launcher.System {
	t.Helper()
	if skipAll != "" {
		t.Skip(skipAll) // only E2E_INFRA=docker with no Docker engine sets it
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cfg.Postgres, cfg.Infrastructure, cfg.Binaries = cluster, infra, binaries
	sys, err := launcher.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := sys.Close(ctx); err != nil {
			t.Errorf("%v\n%s", err, sys.Logs())
		}
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("process logs:\n%s", sys.Logs())
		}
	})
	return sys
}
