package stack_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"

	"github.com/orderbus/orderbus/pkg/stack"
)

// A committed row survives an immediate (crash) shutdown of a durable
// cluster, and the server starts again on the same folder and port.
func TestPostgresCrashAndStart(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pg, err := stack.StartPostgres(ctx, stack.PostgresConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Stop(context.Background()) })
	exec := func(sql string) {
		t.Helper()
		conn, err := pgx.Connect(ctx, pg.URL("postgres"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	exec("CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)")
	var fsync string
	conn, err := pgx.Connect(ctx, pg.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SHOW fsync").Scan(&fsync); err != nil || fsync != "on" {
		t.Errorf("fsync = %q (%v), want on for a cluster without Fast", fsync, err)
	}
	first := pg.Process()
	if err := pg.Crash(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-first.Exited():
	default:
		t.Fatal("postgres still running after Crash")
	}
	if err := conn.Ping(ctx); err == nil {
		t.Error("a session survived the crash")
	}
	if err := pg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pg.Start(ctx); err == nil {
		t.Error("starting a running server: got no error")
	}
	conn, err = pgx.Connect(ctx, pg.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT n FROM kept").Scan(&n); err != nil || n != 42 {
		t.Fatalf("after crash recovery: n = %d (%v), want 42", n, err)
	}
}

// A message acknowledged by a server with SyncAlways is still there after
// the server is killed with SIGKILL and started again.
func TestNATSKillKeepsAckedMessages(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv, err := stack.StartNATS(ctx, stack.NATSConfig{SyncAlways: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Request("$JS.API.STREAM.CREATE.K", []byte(`{"name":"K","subjects":["k.>"],"storage":"file"}`), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := nc.Request("k.x", []byte(strconv.Itoa(i)), 2*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	nc.Close()
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	nc, err = nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	resp, err := nc.Request("$JS.API.STREAM.INFO.K", nil, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(resp.Data), `"messages":10`) {
		t.Fatalf("stream after kill and restart: %s; want 10 messages", resp.Data)
	}
}

// SIGSTOP pauses a process (state T) and SIGCONT resumes it.
func TestProcessSignalPausesAndResumes(t *testing.T) {
	t.Parallel()
	p, err := stack.StartProcess(t.Context(), stack.ProcessConfig{Name: "sleep", Path: "/bin/sleep", Args: []string{"60"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Kill() })
	waitState := func(want byte) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			state := processState(t, p.Pid())
			if state == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("process state %c, want %c", state, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitState('T')
	if err := p.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitState('S')
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := p.Signal(syscall.SIGCONT); err != nil {
		t.Errorf("signal after exit: %v, want nil", err)
	}
}

// Pause returns only once the process is stopped: its state is T at once.
func TestProcessPause(t *testing.T) {
	t.Parallel()
	p, err := stack.StartProcess(t.Context(), stack.ProcessConfig{Name: "sleep", Path: "/bin/sleep", Args: []string{"60"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Kill() })
	if err := p.Pause(t.Context()); err != nil {
		t.Fatal(err)
	}
	if state := processState(t, p.Pid()); state != 'T' {
		t.Errorf("state right after Pause = %c, want T", state)
	}
	if err := p.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := p.Pause(t.Context()); err != nil {
		t.Errorf("Pause after exit: %v, want nil", err)
	}
}

// processState returns the state letter of /proc/<pid>/stat.
func processState(t *testing.T, pid int) byte {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// The state follows the command name in parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		t.Fatalf("unexpected /proc stat %q", s)
	}
	return s[i+2]
}
