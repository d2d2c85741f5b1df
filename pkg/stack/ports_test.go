package stack

import (
	"errors"
	"net"
	"strconv"
	"syscall"
	"testing"
)

// A server whose picked port was taken before it bound it is started
// again on a new port; a port the caller gave, or another failure, is
// not retried; and the attempts are bounded.
func TestStartOnFreePorts(t *testing.T) {
	t.Parallel()
	taken := errors.New("nats exited before it was ready: listen tcp 127.0.0.1:43167: bind: address already in use")

	var port int
	var seen []int
	err := startOnFreePorts([]*int{&port}, func() error {
		seen = append(seen, port)
		if len(seen) == 1 {
			return taken
		}
		return nil
	})
	if err != nil || len(seen) != 2 || seen[0] == 0 || seen[1] == 0 || seen[0] == seen[1] || port != seen[1] {
		t.Errorf("picked port taken once: err %v, ports tried %v, kept %d; want a second start on a new port, kept", err, seen, port)
	}

	given, calls := 5432, 0
	err = startOnFreePorts([]*int{&given}, func() error { calls++; return taken })
	if !errors.Is(err, taken) || calls != 1 || given != 5432 {
		t.Errorf("given port taken: err %v after %d starts, port %d; want the error at once, port unchanged", err, calls, given)
	}

	other := errors.New("postgres exited before it was ready: FATAL: data directory has wrong ownership")
	port, calls = 0, 0
	err = startOnFreePorts([]*int{&port}, func() error { calls++; return other })
	if !errors.Is(err, other) || calls != 1 {
		t.Errorf("another failure: err %v after %d starts; want it at once", err, calls)
	}

	port, calls = 0, 0
	err = startOnFreePorts([]*int{&port}, func() error { calls++; return taken })
	if !errors.Is(err, taken) || calls != portAttempts {
		t.Errorf("port always taken: err %v after %d starts; want the error after %d", err, calls, portAttempts)
	}
}

// A refusing port refuses connections while held, and is free again once
// released.
func TestRefusingPort(t *testing.T) {
	t.Parallel()
	port, release, err := RefusingPort()
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatalf("dial %s while held: connected, want refused", addr)
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial %s while held: %v, want connection refused", addr, err)
	}
	if ln, err := net.Listen("tcp", addr); err == nil {
		ln.Close()
		t.Errorf("listen on %s while held: want it taken", addr)
	}
	release()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s after release: %v", addr, err)
	}
	ln.Close()
}
