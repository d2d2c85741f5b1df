package bench

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// progress shows what runs now and how many orders it has done, on one
// line rewritten in place on a terminal, else as a line every few
// seconds (a log file or CI).
type progress struct {
	w     io.Writer
	tty   bool
	start time.Time
	done  atomic.Int64 // orders done in the current step

	mu    sync.Mutex
	step  string
	total int
	last  string
	quit  chan struct{}
	ended chan struct{}
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, start: time.Now(), quit: make(chan struct{}), ended: make(chan struct{})}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	every := 5 * time.Second
	if p.tty {
		every = 250 * time.Millisecond
	}
	go p.loop(every)
	return p
}

// Step starts a step: what runs, and how many orders it will do (0 when
// it is not counted in orders). The counter restarts at zero.
func (p *progress) Step(what string, total int) {
	p.mu.Lock()
	p.step, p.total = what, total
	p.done.Store(0)
	p.mu.Unlock()
	p.print(true)
}

// Set replaces the counter (for steps that poll a count).
func (p *progress) Set(n int) { p.done.Store(int64(n)) }

// Counter is the step's counter, which a load adds to.
func (p *progress) Counter() *atomic.Int64 { return &p.done }

func (p *progress) line() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	el := time.Since(p.start).Round(time.Second)
	s := fmt.Sprintf("[%s] %s", el, p.step)
	switch n := p.done.Load(); {
	case p.total > 0:
		s += fmt.Sprintf(": %d/%d orders", n, p.total)
	case n > 0:
		s += fmt.Sprintf(": %d orders", n)
	}
	return s
}

func (p *progress) print(force bool) {
	s := p.line()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", s)
		return
	}
	if force || s != p.last {
		fmt.Fprintln(p.w, s)
	}
	p.last = s
}

func (p *progress) loop(every time.Duration) {
	defer close(p.ended)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-p.quit:
			return
		case <-tick.C:
			p.print(false)
		}
	}
}

// Close ends the line.
func (p *progress) Close() {
	close(p.quit)
	<-p.ended
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// Logf prints a note on a line of its own, above the progress line.
func (p *progress) Logf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	msg := strings.TrimRight(fmt.Sprintf(format, args...), "\n")
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s\n", msg)
		return
	}
	fmt.Fprintln(p.w, msg)
}
