package launcher

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/orderbus/orderbus/pkg/natsauth"
	"github.com/orderbus/orderbus/pkg/stack"
)

// TestSystemLifecycle starts a real system on a shared cluster and checks
// what the end-to-end tests rely on: each service's environment, restarts
// on the same address, and a Close that leaves nothing behind.
func TestSystemLifecycle(t *testing.T) {
	// Not parallel: t.Setenv checks the caller's environment does not leak.
	t.Setenv("DATABASE_URL", "postgres://leaked@example.invalid/x")
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	pg, err := stack.StartPostgres(ctx, stack.PostgresConfig{Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Stop(context.Background()) })
	bins, err := Build(ctx, t.TempDir(), DefaultServices()...)
	if err != nil {
		t.Fatal(err)
	}
	sys, err := Start(ctx, Config{
		Postgres: pg, Binaries: bins,
		Env: map[string]map[string]string{
			"email": {"MAIL_FROM": "test <test@example.com>", "LOG_LEVEL": "debug"},
			"sms":   {"CONSUMER_BACKOFF": "100ms,200ms"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = sys.Close(context.Background())
		}
	})

	if got, want := strings.Join(sys.Services(), ","), "order,inventory,gdpr,email,sms"; got != want {
		t.Errorf("default services %s, want %s", got, want)
	}
	if url := sys.DatabaseURL("order"); !strings.Contains(url, "/e2e_") || !strings.Contains(url, "_orders?") {
		t.Errorf("order database URL %s: want a prefixed orders database", url)
	}
	if url := sys.DatabaseURL("order"); !strings.Contains(url, "_order_svc:") || strings.Contains(url, "://postgres@") {
		t.Errorf("order database URL %s: want the service's own role, not the superuser", url)
	}
	env := processEnv(t, sys.Process("email"))
	want := map[string]string{
		"HTTP_ADDR":     strings.TrimPrefix(sys.ServiceURL("email"), "http://"),
		"DATABASE_URL":  sys.DatabaseURL("email"),
		"NATS_URL":      sys.NATS().URL(),
		"NATS_USER":     "email",
		"NATS_PASSWORD": natsauth.DevPassword("email"),
		"ORDERBUS_ENV":  "development",
		"SMTP_HOST":     "127.0.0.1",
		"SMTP_PORT":     strconv.Itoa(sys.Mailpit().SMTPPort()),
		"SMTP_TLS":      "none",
		"LOG_FORMAT":    "text",
		"LOG_LEVEL":     "debug",
		"MAIL_FROM":     "test <test@example.com>",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("email env %s=%q, want %q", k, env[k], v)
		}
	}

	smsEnv := processEnv(t, sys.Process("sms"))
	for k, v := range map[string]string{"SMS_PROVIDER": "log", "CONSUMER_BACKOFF": "100ms,200ms", "LOG_LEVEL": "info"} {
		if smsEnv[k] != v {
			t.Errorf("sms env %s=%q, want %q", k, smsEnv[k], v)
		}
	}

	// The system's NATS refuses anonymous clients and knows the users.
	if nc, err := nats.Connect(sys.NATS().URL(), nats.Timeout(5*time.Second)); err == nil {
		nc.Close()
		t.Error("anonymous connection to the system's NATS accepted")
	}
	nc, err := nats.Connect(sys.NATSUserURL(natsauth.UserReader), nats.Timeout(5*time.Second))
	if err != nil {
		t.Errorf("reader connection: %v", err)
	} else {
		nc.Close()
	}

	url, firstPid := sys.ServiceURL("email"), sys.Process("email").Pid()
	if err := sys.StopService(ctx, "email"); err != nil {
		t.Fatal(err)
	}
	if err := getOK(ctx, http.DefaultClient, url+"/healthz"); err == nil {
		t.Error("stopped email service still answers")
	}
	if err := sys.StartService(ctx, "email"); err != nil {
		t.Fatal(err)
	}
	if err := getOK(ctx, http.DefaultClient, url+"/readyz"); err != nil {
		t.Errorf("restarted email service on %s: %v", url, err)
	}
	if sys.Process("email").Pid() == firstPid {
		t.Error("StartService did not start a new process")
	}
	if logs := sys.Logs(); !strings.Contains(logs, "email run 2/2") || !strings.Contains(logs, "==== nats") {
		t.Errorf("Logs() lacks the runs of the email service or the NATS section:\n%s", logs)
	}

	var procs []*stack.Process
	for _, name := range sys.Services() {
		procs = append(procs, sys.Process(name))
	}
	// Local infrastructure (Config.Infrastructure nil): processes.
	natsProc := sys.NATS().(*stack.NATS)
	procs = append(procs, natsProc.Process(), sys.Mailpit().(*stack.Mailpit).Process())
	store := natsProc.StoreDir()
	closed = true
	if err := sys.Close(ctx); err != nil {
		t.Fatalf("Close: %v\n%s", err, sys.Logs())
	}
	for _, p := range procs {
		select {
		case <-p.Exited():
		default:
			t.Errorf("%s still running after Close", p.Name())
		}
	}
	if _, err := os.Stat(store); !os.IsNotExist(err) {
		t.Errorf("NATS store %s not removed: %v", store, err)
	}
	if err := sys.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// processEnv reads a running process's environment from /proc.
func processEnv(t *testing.T, p *stack.Process) map[string]string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.Pid()) + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for kv := range strings.SplitSeq(string(b), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}
