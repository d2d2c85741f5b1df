package natsjs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DefaultCheckInterval is how often a StreamSetup checks that its streams
// still exist.
const DefaultCheckInterval = 5 * time.Second

// StreamSetup creates the streams a service needs without making the
// service wait for the broker, and recreates any that goes missing while
// the service runs: Run retries in the background, and Ready tells the
// readiness check whether every stream exists. A service that publishes
// through the outbox can thus start, and take requests, while NATS is down.
type StreamSetup struct {
	// CheckInterval is how often Run checks, once the streams are created,
	// that they still exist (default DefaultCheckInterval). Set it before Run.
	CheckInterval time.Duration
	// Manages names the streams of cfgs this service creates and
	// recreates; it waits for the others, which another service (with the
	// right to) creates. nil means all of them. Set it before Run. Under
	// the orderbus permissions a service may create only the streams
	// events.Service.Manages lists.
	Manages []string

	js      jetstream.JetStream
	cfgs    []jetstream.StreamConfig
	logger  *slog.Logger
	mu      sync.Mutex
	missing []string        // streams not known to exist; all of them until the first success
	failing map[string]bool // streams whose recreation failed and was logged at warn; Run's own
}

// NewStreamSetup returns a StreamSetup for cfgs; nothing is sent until Run.
func NewStreamSetup(js jetstream.JetStream, logger *slog.Logger, cfgs ...jetstream.StreamConfig) *StreamSetup {
	s := &StreamSetup{js: js, cfgs: cfgs, logger: logger}
	for _, c := range cfgs {
		s.missing = append(s.missing, c.Name)
	}
	return s
}

// Run calls EnsureStreams on the managed streams, and checks that the
// others exist, until it succeeds, with a backoff of 100 ms
// doubling to 5 s between attempts (the first failure logged at warn, the
// others at debug). Then, until ctx ends, it lists the streams every
// CheckInterval and recreates any that is missing (deleted by hand, lost
// with the server's store), logging it at warn; Ready is false meanwhile.
func (s *StreamSetup) Run(ctx context.Context) {
	if !s.create(ctx) {
		return
	}
	interval := s.CheckInterval
	if interval <= 0 {
		interval = DefaultCheckInterval
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
		s.repair(ctx)
	}
}

// create calls EnsureStreams until it succeeds or ctx ends, and reports
// which.
func (s *StreamSetup) create(ctx context.Context) bool {
	delay := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		attemptCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		missing, err := s.ensure(attemptCtx)
		cancel()
		if err == nil {
			s.setMissing(nil)
			s.logger.Info("jetstream streams ready")
			return true
		}
		s.setMissing(missing)
		if attempt == 1 {
			s.logger.Warn("cannot create jetstream streams yet; retrying", "error", err, "retry_in", delay.String())
		} else {
			s.logger.Debug("cannot create jetstream streams yet; retrying", "error", err, "retry_in", delay.String())
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// repair lists the streams and recreates the missing ones. A failed
// listing (JetStream unreachable) changes nothing: ReadyCheck reports the
// connection itself.
func (s *StreamSetup) repair(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	names := s.js.StreamNames(ctx)
	var have []string
	for n := range names.Name() {
		have = append(have, n)
	}
	if err := names.Err(); err != nil {
		s.logger.Debug("list jetstream streams", "error", err)
		return
	}
	var missing []jetstream.StreamConfig
	var awaited []string // missing, and another service's to create
	for _, c := range s.cfgs {
		switch {
		case slices.Contains(have, c.Name):
		case s.manages(c.Name):
			missing = append(missing, c)
		default:
			awaited = append(awaited, c.Name)
		}
	}
	if len(missing) == 0 {
		s.setMissing(awaited)
		return
	}
	if s.failing == nil {
		s.failing = map[string]bool{}
	}
	var still []string
	for _, c := range missing {
		if _, err := s.js.CreateOrUpdateStream(ctx, c); err != nil {
			still = append(still, c.Name)
			if !s.failing[c.Name] {
				s.failing[c.Name] = true
				s.logger.Warn("jetstream stream missing; cannot recreate it yet", "stream", c.Name, "error", err)
			} else {
				s.logger.Debug("jetstream stream missing; cannot recreate it yet", "stream", c.Name, "error", err)
			}
			continue
		}
		delete(s.failing, c.Name)
		s.logger.Warn("jetstream stream was missing; recreated", "stream", c.Name)
	}
	s.setMissing(append(still, awaited...))
}

// manages reports whether the setup creates stream name.
func (s *StreamSetup) manages(name string) bool {
	return s.Manages == nil || slices.Contains(s.Manages, name)
}

// ensure creates or updates each managed stream (EnsureStreams) and checks
// that the others exist, going on past a failure. It returns the names of
// the streams that failed and the failures joined.
func (s *StreamSetup) ensure(ctx context.Context) ([]string, error) {
	var missing []string
	var errs []error
	for _, c := range s.cfgs {
		err := ctx.Err()
		switch {
		case err != nil:
		case s.manages(c.Name):
			err = EnsureStreams(ctx, s.js, c)
		default:
			if _, err = s.js.Stream(ctx, c.Name); err != nil {
				err = fmt.Errorf("wait for stream %s (another service creates it): %w", c.Name, err)
			}
		}
		if err != nil {
			missing, errs = append(missing, c.Name), append(errs, err)
		}
	}
	return missing, errors.Join(errs...)
}

func (s *StreamSetup) setMissing(names []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.missing = names
}

// Missing returns the names of the streams not known to exist: all of
// them until Run first created them, then those Run found missing and
// could not recreate yet.
func (s *StreamSetup) Missing() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.missing)
}

// Ready reports whether every stream exists, as far as Run knows: false
// until Run created them, and while one found missing is not recreated.
func (s *StreamSetup) Ready() bool { return len(s.Missing()) == 0 }

// missingText lists stream names for an error message.
func missingText(names []string) string { return strings.Join(names, ", ") }
