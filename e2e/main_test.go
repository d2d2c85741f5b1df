package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/orderbus/orderbus/e2e/launcher"
	"github.com/orderbus/orderbus/pkg/stack"
)

// Shared by every test of the run: one PostgreSQL cluster (each system
// creates its own databases on it) and the service binaries, built once.
var (
	cluster  *stack.Postgres
	binaries map[string]string
)

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	flag.Parse()
	// Missing PostgreSQL binaries, a failed build or an unreachable module
	// proxy fail the run: an end-to-end suite that skips proves nothing.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
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
	for _, tool := range []string{"nats-server", "mailpit"} {
		if _, err := stack.Tool(ctx, tool); err != nil {
			return fail(err)
		}
	}
	cluster, err = stack.StartPostgres(ctx, stack.PostgresConfig{Fast: true})
	if err != nil {
		return fail(err)
	}
	defer func() { _ = cluster.Stop(context.Background()) }()
	if err := <-built; err != nil {
		return fail(err)
	}
	if testing.Verbose() {
		fmt.Printf("e2e: postgres on port %d, services built in %v\n", cluster.Port(), time.Since(start).Round(time.Millisecond))
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
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	sys, err := launcher.Start(ctx, launcher.Config{Postgres: cluster, Binaries: binaries, Env: env})
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
	waitConsumersCreated(t, sys)
	return sys
}

// waitConsumersCreated waits until every durable consumer of the system
// exists. A service's /readyz passes once the streams exist, and a service
// that found no stream at start creates its consumer a retry later: a test
// stopping it at once could otherwise find no consumer to inspect. (No
// message would be lost: consumers start from the first message.)
func waitConsumersCreated(t *testing.T, sys *launcher.System) {
	t.Helper()
	js := jetStream(t, sys)
	eventually(t, 30*time.Second, "durable consumers created", func(ctx context.Context) (bool, string) {
		for _, st := range settleSteps(sys) {
			if st.consumer == "" {
				continue
			}
			if _, err := consumerInfo(ctx, js, st.stream, st.consumer); err != nil {
				return false, err.Error()
			}
		}
		return true, ""
	})
}
