// Package lifecycle runs the long-running parts of a service (its HTTP
// server, its consumers, its outbox relay) together: the first part to
// fail stops the others, and the service waits for them, within its
// shutdown timeout, before it closes what they use. The order of the
// shutdown stays in the service's run, as the list of stages it hands to
// Shutdown: one Group per stage of parts (HTTP and consumers, then the
// relay that publishes what they stored), then the connections they used.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

// Group is a set of parts running with one context. It is done when the
// parent context is, when Stop is called, or when a part fails. The zero
// Group is not usable; call NewGroup.
type Group struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	errs    []error        // of the failed parts, in the order they failed
	running map[string]int // part name → how many of that name still run
}

// NewGroup returns an empty Group whose parts run with a context derived
// from ctx. Pass context.WithoutCancel(ctx) for parts that must outlive
// the service's context and be stopped explicitly, later, with Stop.
func NewGroup(ctx context.Context) *Group {
	gctx, cancel := context.WithCancel(ctx)
	return &Group{ctx: gctx, cancel: cancel, running: map[string]int{}}
}

// Go runs part in a goroutine with the group's context; part must return
// soon after that context is done. An error part returns is recorded as
// "name: error" and stops the group, so the other parts return too; a
// part returning nil stops nothing. Several parts may share a name.
func (g *Group) Go(name string, part func(ctx context.Context) error) {
	g.mu.Lock()
	g.running[name]++
	g.mu.Unlock()
	g.wg.Go(func() {
		err := part(g.ctx)
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.running[name]--; g.running[name] == 0 {
			delete(g.running, name)
		}
		if err != nil {
			g.errs = append(g.errs, fmt.Errorf("%s: %w", name, err))
			g.cancel()
		}
	})
}

// Context returns the parts' context: done once the group is stopped, by
// its parent context, by Stop or by a failed part.
func (g *Group) Context() context.Context { return g.ctx }

// Stop asks every part to return by canceling the group's context. It does
// not wait for them; see Wait.
func (g *Group) Stop() { g.cancel() }

// Wait waits until every part has returned, or until ctx is done (a
// shutdown timeout), whichever comes first. It does not stop the parts:
// stop the group first. It returns the errors of the failed parts,
// joined; when ctx ends first, also an error naming the parts still
// running and wrapping ctx.Err(). It returns nil when every part returned
// nil in time.
func (g *Group) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	finished := true
	select {
	case <-done:
	case <-ctx.Done():
		select {
		case <-done:
		default:
			finished = false
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	errs := slices.Clone(g.errs)
	if !finished && len(g.running) > 0 { // none running: they all returned meanwhile
		names := slices.Sorted(maps.Keys(g.running))
		errs = append(errs, fmt.Errorf("wait for %s: %w", strings.Join(names, ", "), ctx.Err()))
	}
	return errors.Join(errs...)
}
