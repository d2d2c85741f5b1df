package bench

import (
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// DelayProxy is a TCP proxy that holds back every chunk the server sends
// by a settable delay, so that a request-response protocol such as SMTP
// answers every command (and greets) that much later. What the client
// sends passes at once. SetDelay applies to data read after it; 0 passes
// data through without waiting. Its methods are safe for concurrent use.
type DelayProxy struct {
	ln       net.Listener
	upstream string
	delay    atomic.Int64 // nanoseconds

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// NewDelayProxy listens on a free port of 127.0.0.1 and forwards each
// connection to upstream (host:port), dialed when the client connects.
func NewDelayProxy(upstream string) (*DelayProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("delay proxy: %w", err)
	}
	p := &DelayProxy{ln: ln, upstream: upstream, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.accept)
	return p, nil
}

// Addr returns the listen address, 127.0.0.1:PORT.
func (p *DelayProxy) Addr() string { return p.ln.Addr().String() }

// Port returns the listen port.
func (p *DelayProxy) Port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// SetDelay sets how long each chunk from the server is held back.
func (p *DelayProxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }

// Close stops listening and closes every open connection.
func (p *DelayProxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

func (p *DelayProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *DelayProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *DelayProxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.wg.Go(func() { p.serve(client) })
	}
}

func (p *DelayProxy) serve(client net.Conn) {
	if !p.track(client) {
		return
	}
	defer p.untrack(client)
	server, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
	if err != nil {
		return
	}
	if !p.track(server) {
		return
	}
	defer p.untrack(server)
	var wg sync.WaitGroup
	wg.Go(func() {
		_, _ = io.Copy(server, client)
		closeWrite(server)
	})
	p.delayed(client, server)
	closeWrite(client)
	wg.Wait()
}

// chunk is data read from the server, due at a time; buf is the pooled
// buffer data lies in, returned to chunkBufs once written.
type chunk struct {
	data []byte
	due  time.Time
	buf  *[]byte
}

// chunkBufs recycles the read buffers: an SMTP answer is a few dozen
// bytes, and a fresh 32 KiB buffer per answer made the proxy one of the
// bench tool's larger costs (it sits on the whole system's mail path).
var chunkBufs = sync.Pool{New: func() any { b := make([]byte, 32*1024); return &b }}

// delayed copies from src to dst, each chunk no earlier than its arrival
// plus the delay at that moment. A reader goroutine keeps reading while
// earlier chunks wait, so that the delays do not add up.
func (p *DelayProxy) delayed(dst, src net.Conn) {
	queue := make(chan chunk, 256)
	go func() {
		defer close(queue)
		for {
			buf := chunkBufs.Get().(*[]byte)
			n, err := src.Read(*buf)
			if n > 0 {
				c := chunk{data: (*buf)[:n], buf: buf}
				if d := p.delay.Load(); d > 0 {
					c.due = time.Now().Add(time.Duration(d))
				}
				queue <- c
			} else {
				chunkBufs.Put(buf)
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range queue {
		if !c.due.IsZero() {
			if wait := time.Until(c.due); wait > 0 {
				time.Sleep(wait)
			}
		}
		_, err := dst.Write(c.data)
		chunkBufs.Put(c.buf)
		if err != nil {
			src.Close() // unblocks the reader
			for range queue {
			}
			return
		}
	}
}

// closeWrite passes an end of stream on: the other side's read ends.
func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}
