package bench

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// lineServer greets and then answers every line with "ok <line>", as an
// SMTP server answers commands.
func lineServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = c.Write([]byte("220 hello\r\n"))
				sc := bufio.NewScanner(c)
				sc.Buffer(make([]byte, 0, 1<<20), 1<<20)
				for sc.Scan() {
					if _, err := c.Write([]byte("250 ok " + sc.Text() + "\r\n")); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// Through the proxy every byte arrives intact and in order, and with a
// delay set no answer arrives before it: a command's answer comes at
// least the delay after the command was sent.
func TestDelayProxy(t *testing.T) {
	t.Parallel()
	p, err := NewDelayProxy(lineServer(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	conn, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(conn)
	read := func() string {
		t.Helper()
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read through the proxy: %v", err)
		}
		return strings.TrimSpace(line)
	}
	if got := read(); got != "220 hello" {
		t.Fatalf("greeting %q, want 220 hello", got)
	}
	big := strings.Repeat("x", 100_000) // more than one chunk
	if _, err := conn.Write([]byte("EHLO a\r\n" + big + "\r\n")); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != "250 ok EHLO a" {
		t.Errorf("answer %q, want 250 ok EHLO a", got)
	}
	if got := read(); got != "250 ok "+big {
		t.Errorf("the long answer came back with %d bytes, want %d", len(got), len("250 ok "+big))
	}

	const delay = 150 * time.Millisecond
	p.SetDelay(delay)
	for _, cmd := range []string{"MAIL", "RCPT"} {
		sent := time.Now()
		if _, err := conn.Write([]byte(cmd + "\r\n")); err != nil {
			t.Fatal(err)
		}
		if got := read(); got != "250 ok "+cmd {
			t.Errorf("answer %q, want 250 ok %s", got, cmd)
		}
		if waited := time.Since(sent); waited < delay {
			t.Errorf("%s answered after %v, before the delay of %v", cmd, waited, delay)
		}
	}
}

// Close ends the connections through the proxy and refuses new ones.
func TestDelayProxyClose(t *testing.T) {
	t.Parallel()
	p, err := NewDelayProxy(lineServer(t))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := r.ReadString('\n'); err == nil {
		t.Error("a connection survived Close")
	}
	// The port may already belong to another listener (a parallel test's,
	// given the freed port by the kernel): what must not come is the
	// upstream's greeting through the proxy.
	if c, err := net.Dial("tcp", p.Addr()); err == nil {
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		if line, err := bufio.NewReader(c).ReadString('\n'); err == nil && line == "220 hello\r\n" {
			t.Error("the proxy accepts connections after Close")
		}
	}
}
