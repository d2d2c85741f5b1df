package stack

import (
	"fmt"
	"net"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
// Another process may take it before the caller binds it; the window is
// small enough for tests that start their servers right away.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
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
