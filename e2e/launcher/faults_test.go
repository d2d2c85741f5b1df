package launcher

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestFaults runs a small system with its own PostgreSQL and proxies, and
// checks every fault the chaos run relies on: a cut proxy makes the
// service behind it unready until restored, a killed or paused service
// and a killed NATS or crashed PostgreSQL come back, and Close still
// stops everything.
func TestFaults(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	bins, err := Build(ctx, t.TempDir(), "order", "sms")
	if err != nil {
		t.Fatal(err)
	}
	sys, err := Start(ctx, Config{
		Services: []string{"order", "sms"}, Binaries: bins,
		Routes: []Route{{"order", DependencyPostgres}, {"sms", DependencyNATS}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sys.Close(context.Background()) })
	defer func() {
		if t.Failed() {
			t.Logf("logs:\n%s", sys.Logs())
		}
	}()

	orderDB := processEnv(t, sys.Process("order"))["DATABASE_URL"]
	if p := sys.Proxy("order", DependencyPostgres); p == nil || !strings.Contains(orderDB, p.Addr()) {
		t.Fatalf("order DATABASE_URL %s does not go through its proxy %v", orderDB, p)
	}
	if got := processEnv(t, sys.Process("sms"))["NATS_URL"]; got != "nats://"+sys.Proxy("sms", DependencyNATS).Addr() {
		t.Errorf("sms NATS_URL %s, want its proxy", got)
	}
	if sys.Proxy("order", DependencyNATS) != nil || len(sys.Proxies()) != 2 {
		t.Errorf("proxies %v: want exactly the two routes", sys.Proxies())
	}

	orderReady := sys.ServiceURL("order") + "/readyz"
	p := sys.Proxy("order", DependencyPostgres)
	if err := p.AddLatency(50*time.Millisecond, 0); err != nil {
		t.Fatal(err)
	}
	if err := p.AddLatency(50*time.Millisecond, 0); err == nil {
		t.Error("adding latency twice: got no error")
	}
	if err := p.RemoveLatency(ctx); err != nil {
		t.Fatal(err)
	}
	p.Cut()
	waitFor(t, "order unready while its database connection is cut", func() bool {
		return getOK(ctx, http.DefaultClient, orderReady) != nil
	})
	if err := p.Restore(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "order ready again", func() bool { return getOK(ctx, http.DefaultClient, orderReady) == nil })

	first := sys.Process("order")
	if err := sys.KillService("order"); err != nil {
		t.Fatal(err)
	}
	if first.Err() == nil || !strings.Contains(first.Err().Error(), "killed") {
		t.Errorf("killed order exited with %v, want killed", first.Err())
	}
	if err := sys.StartService(ctx, "order"); err != nil {
		t.Fatal(err)
	}

	if err := sys.PauseService("sms"); err != nil {
		t.Fatal(err)
	}
	smsHealth := sys.ServiceURL("sms") + "/healthz"
	short, stop := context.WithTimeout(ctx, 500*time.Millisecond)
	if err := getOK(short, http.DefaultClient, smsHealth); err == nil {
		t.Error("paused sms service answered")
	}
	stop()
	if err := sys.ResumeService("sms"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "sms answers after resume", func() bool { return getOK(ctx, http.DefaultClient, smsHealth) == nil })

	if err := sys.KillNATS(); err != nil {
		t.Fatal(err)
	}
	if err := sys.NATS().Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sys.CrashPostgres(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sys.StartPostgres(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range sys.Services() {
		url := sys.ServiceURL(name) + "/readyz"
		waitFor(t, name+" ready after the NATS kill and the PostgreSQL crash", func() bool {
			return getOK(ctx, http.DefaultClient, url) == nil
		})
	}
	// Paused again, so that Close must resume it to stop it.
	if err := sys.PauseService("sms"); err != nil {
		t.Fatal(err)
	}
	if err := sys.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
