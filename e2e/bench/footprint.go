package bench

import (
	"context"
	"maps"
	"sync"
	"time"
)

// Proc is a process whose footprint is measured.
type Proc struct {
	Name string
	PID  int
	// Children counts the process's child processes too, for CPU and
	// memory: PostgreSQL's postmaster forks a backend per connection.
	Children bool
}

// cpuSnapshot returns each process's CPU time so far, by name; a process
// that cannot be read is left out.
func cpuSnapshot(procs []Proc) map[string]cpuTimes {
	out := map[string]cpuTimes{}
	for _, p := range procs {
		if c, err := processCPU(p.PID, p.Children); err == nil {
			out[p.Name] = c
		}
	}
	return out
}

// cpuDelta returns after less before, per name present in both.
func cpuDelta(before, after map[string]cpuTimes) map[string]cpuTimes {
	out := map[string]cpuTimes{}
	for name, a := range after {
		if b, ok := before[name]; ok {
			out[name] = a.sub(b)
		}
	}
	return out
}

// rssOf returns the resident memory of p: its VmRSS, or with
// p.Children the PSS of it and its children, which counts shared memory
// once (VmRSS when PSS cannot be read).
func rssOf(p Proc) (int64, error) {
	if !p.Children {
		return RSS(p.PID)
	}
	n, err := PSS(p.PID)
	if err != nil {
		return RSS(p.PID)
	}
	for _, c := range childPIDs(p.PID) {
		if m, err := PSS(c); err == nil {
			n += m
		}
	}
	return n, nil
}

// rssSampler reads every process's RSS at an interval (a process tree's
// every treeEvery intervals) and keeps the
// largest value seen since the last reset.
type rssSampler struct {
	procs []Proc
	mu    sync.Mutex
	peak  map[string]int64
	done  chan struct{}
	stop  context.CancelFunc
}

// startRSS samples procs every interval until Stop.
func startRSS(ctx context.Context, procs []Proc, interval time.Duration) *rssSampler {
	ctx, cancel := context.WithCancel(ctx)
	s := &rssSampler{procs: procs, peak: map[string]int64{}, done: make(chan struct{}), stop: cancel}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for n := 0; ; n++ {
			s.sample(n%treeEvery == 0)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// treeEvery is how many intervals apart the sampler reads a process
// tree's PSS (PostgreSQL's postmaster and every backend): reading
// smaps_rollup walks each backend's page tables, shared buffers included,
// and doing it every 250 ms made the bench tool the pipeline's second
// largest CPU cost, nearly all of it kernel time charged to the bench.
const treeEvery = 8

// sample reads every process's RSS; a process tree's only when tree.
func (s *rssSampler) sample(tree bool) {
	for _, p := range s.procs {
		if p.Children && !tree {
			continue
		}
		n, err := rssOf(p)
		if err != nil {
			continue
		}
		s.mu.Lock()
		s.peak[p.Name] = max(s.peak[p.Name], n)
		s.mu.Unlock()
	}
}

// Reset forgets the peaks and returns them.
func (s *rssSampler) Reset() map[string]int64 {
	s.sample(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	out := maps.Clone(s.peak)
	s.peak = map[string]int64{}
	return out
}

// Stop ends the sampling.
func (s *rssSampler) Stop() {
	s.stop()
	<-s.done
}

// currentRSS returns each process's RSS now, by name.
func currentRSS(procs []Proc) map[string]int64 {
	out := map[string]int64{}
	for _, p := range procs {
		if n, err := rssOf(p); err == nil {
			out[p.Name] = n
		}
	}
	return out
}
