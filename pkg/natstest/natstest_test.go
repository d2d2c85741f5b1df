package natstest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natstest"
)

func TestStartConnect(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	nc, js := natstest.Connect(t, srv)
	if !nc.IsConnected() {
		t.Fatalf("connection status %v, want connected", nc.Status())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, want := range events.Streams(events.DefaultRetention()) {
		if _, err := js.Stream(ctx, want.Name); err != nil {
			t.Errorf("stream %s: %v", want.Name, err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.MonitorURL()+"/healthz?js-enabled-only=true", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("healthz: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz = %d, want 200", resp.StatusCode)
	}
}

// TestServersAreIndependent checks that each test gets its own server, so
// stopping one cannot disturb another.
func TestServersAreIndependent(t *testing.T) {
	t.Parallel()
	a, b := natstest.Start(t), natstest.Start(t)
	if a.URL() == b.URL() {
		t.Fatalf("both servers listen on %s", a.URL())
	}
	ncB, _ := natstest.Connect(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Stop(ctx); err != nil {
		t.Fatalf("stop a: %v", err)
	}
	if err := ncB.FlushTimeout(5 * time.Second); err != nil {
		t.Errorf("server b affected by stopping a: %v", err)
	}
}

// TestLoggerAfterCleanup checks that logging from a goroutine that
// outlives the test does not panic.
func TestLoggerAfterCleanup(t *testing.T) {
	t.Parallel()
	done := make(chan struct{})
	t.Run("inner", func(t *testing.T) {
		logger := natstest.Logger(t)
		logger.Info("during the test")
		t.Cleanup(func() {
			go func() {
				defer close(done)
				time.Sleep(50 * time.Millisecond) // after the subtest has completed
				logger.Info("after the test")
			}()
		})
	})
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("late logging goroutine did not finish")
	}
}
