package natsjs

import (
	"log/slog"
	"sync"
	"time"
)

// dependencyHandler names the failing dependency of a transient error
// that Unavailable did not mark.
const dependencyHandler = "handler"

// circuit is the state of a consumer's fetching, as in a circuit breaker.
type circuit int

const (
	circuitClosed   circuit = iota // fetching
	circuitOpen                    // paused: not fetching; probing the dependency
	circuitHalfOpen                // paused, letting one trial message through
)

// verdict is what a delivery's outcome says about the dependencies.
type verdict int

const (
	verdictNone      verdict = iota // the handler was not called (malformed, redrive for another durable)
	verdictSuccess                  // the handler returned nil
	verdictTransient                // a transient failure: counts toward a pause
	verdictPermanent                // a permanent failure: the dependency answered
)

// breaker pauses a consumer's fetching after PauseAfter transient
// failures in a row and decides when it resumes. It outlives the Runs of
// its Consumer, so Paused can be asked at any time.
type breaker struct {
	pauseAfter int
	log        *slog.Logger
	metrics    *metrics

	mu         sync.Mutex
	state      circuit
	failures   int           // transient failures in a row
	dependency string        // what failed, while not closed
	cause      error         // the failure that opened the circuit
	since      time.Time     // when the pause began
	trialTaken bool          // half-open: the trial message is running
	changed    chan struct{} // capacity 1: wakes the fetch loop
}

func newBreaker(pauseAfter int, log *slog.Logger, m *metrics) *breaker {
	return &breaker{pauseAfter: pauseAfter, log: log, metrics: m,
		changed: make(chan struct{}, 1)}
}

// admit tells a worker whether to run a fetched message: always while
// closed, never while open, and only one (the trial) while half-open.
func (b *breaker) admit() (run, trial bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case circuitClosed:
		return true, false
	case circuitHalfOpen:
		if !b.trialTaken {
			b.trialTaken = true
			return true, true
		}
	}
	return false, false
}

// record takes the verdict of a delivery a worker ran; trial says whether
// it was the half-open trial. A success resets the run of failures; the
// PauseAfter-th transient failure in a row opens the circuit; the trial's
// verdict closes it again (success or permanent) or reopens it.
func (b *breaker) record(v verdict, err error, trial bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	trial = trial && b.state == circuitHalfOpen
	switch v {
	case verdictSuccess:
		b.failures = 0
		if trial {
			b.closeLocked("trial message succeeded")
		}
	case verdictPermanent:
		if trial {
			b.closeLocked("trial message reached its dependency")
		}
	case verdictTransient:
		b.failures++
		dep, ok := DependencyOf(err)
		if !ok {
			dep = dependencyHandler
		}
		switch {
		case trial:
			b.log.Debug("trial message failed; consumer stays paused", "dependency", dep, "error", err)
			b.setDependencyLocked(dep)
			b.cause = err
			b.state, b.trialTaken = circuitOpen, false
			b.signalLocked()
		case b.state == circuitClosed && b.failures >= b.pauseAfter:
			b.openLocked(dep, err)
		}
	case verdictNone:
		if trial {
			b.trialTaken = false // no verdict: let another message through
			b.signalLocked()
		}
	}
}

// openLocked pauses fetching after a run of failures of dep.
func (b *breaker) openLocked(dep string, err error) {
	b.state, b.since, b.cause, b.trialTaken = circuitOpen, time.Now(), err, false
	b.setDependencyLocked(dep)
	b.metrics.pauses.WithLabelValues(dep).Inc()
	b.signalLocked()
	b.log.Warn("consumer paused: its dependency keeps failing; probing until it answers",
		"dependency", dep, "error", err, "failures_in_a_row", b.failures)
}

// halfOpen lets one trial message through, when no probe can tell.
func (b *breaker) halfOpen() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state != circuitOpen {
		return
	}
	b.state, b.trialTaken = circuitHalfOpen, false
	b.signalLocked()
}

// resume closes the circuit: fetching starts again.
func (b *breaker) resume(why string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closeLocked(why)
}

func (b *breaker) closeLocked(why string) {
	if b.state == circuitClosed {
		return
	}
	b.log.Info("consumer resumed", "dependency", b.dependency, "why", why,
		"paused_for", time.Since(b.since).Round(time.Millisecond).String())
	b.resetLocked()
}

// reset closes the circuit without a log line (Run stops).
func (b *breaker) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.resetLocked()
}

func (b *breaker) resetLocked() {
	if b.dependency != "" {
		b.metrics.paused.WithLabelValues(b.dependency).Set(0)
	}
	b.state, b.failures, b.dependency, b.cause, b.trialTaken = circuitClosed, 0, "", nil, false
	b.signalLocked()
}

func (b *breaker) setDependencyLocked(dep string) {
	if b.dependency != "" && b.dependency != dep {
		b.metrics.paused.WithLabelValues(b.dependency).Set(0)
	}
	b.dependency = dep
	b.metrics.paused.WithLabelValues(dep).Set(1)
}

func (b *breaker) signalLocked() {
	select {
	case b.changed <- struct{}{}:
	default:
	}
}

// status returns the state, the failing dependency and cause, and when
// the pause began.
func (b *breaker) status() (state circuit, dependency string, cause error, since time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state, b.dependency, b.cause, b.since
}

// trialAllowed reports whether the fetch loop may fetch the trial message.
func (b *breaker) trialAllowed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state == circuitHalfOpen && !b.trialTaken
}
