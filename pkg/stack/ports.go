package stack

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
)

// handedOut remembers every port FreePort returned in this process. A
// server that a test stops and starts again (an outage) leaves its port
// unbound meanwhile; without this record the kernel could give that port
// to a parallel test of the same package, and the restart would fail.
// It is package state on purpose: the ports of one process are one pool.
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago and
// that it has not returned before in this process. Another process may
// take it before the caller binds it; the window is small enough for
// tests that start their servers right away.
func FreePort() (int, error) {
	handedOut.Lock()
	defer handedOut.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !handedOut.ports[port] {
			handedOut.ports[port] = true
			return port, nil
		}
	}
	return 0, fmt.Errorf("find free port: the kernel kept offering ports already handed out")
}

// RefusingPort returns a port on 127.0.0.1 that refuses connections
// until release is called: a TCP socket is bound to it and never listens.
// Unlike a port closed after use, no other listener (another test's, in
// this process or another) can be given it meanwhile, so a check of
// "nothing listening there" cannot reach someone else's server.
func RefusingPort() (port int, release func(), err error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, nil, fmt.Errorf("refusing port: %w", err)
	}
	release = func() { _ = syscall.Close(fd) }
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		release()
		return 0, nil, fmt.Errorf("refusing port: bind: %w", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		release()
		return 0, nil, fmt.Errorf("refusing port: %w", err)
	}
	return sa.(*syscall.SockaddrInet4).Port, release, nil
}

// freePorts fills every zero in ports with a free port.
func freePorts(ports ...*int) error {
	for _, p := range ports {
		if *p != 0 {
			continue
		}
		free, err := FreePort()
		if err != nil {
			return err
		}
		*p = free
	}
	return nil
}

// portAttempts bounds how often startOnFreePorts starts a server.
const portAttempts = 3

// startOnFreePorts fills every zero in ports with a free port and calls
// start. When start fails because another process bound one of those
// ports in the meantime (FreePort's window: an outgoing connection of a
// parallel test package may take it as its source port), it picks new
// ones and calls start again, at most portAttempts times in all. Ports
// the caller gave are kept: a clash on them is the caller's error.
func startOnFreePorts(ports []*int, start func() error) error {
	var picked []*int
	for _, p := range ports {
		if *p == 0 {
			picked = append(picked, p)
		}
	}
	for attempt := 1; ; attempt++ {
		for _, p := range picked {
			*p = 0
		}
		if err := freePorts(ports...); err != nil {
			return err
		}
		err := start()
		if err == nil || len(picked) == 0 || attempt == portAttempts || !portTaken(err) {
			return err
		}
	}
}

// portTaken reports whether err says a server could not bind its port
// (nats-server, Mailpit and PostgreSQL all print the system's message).
func portTaken(err error) bool {
	return strings.Contains(strings.ToLower(err.Error()), "address already in use")
}
