// Package group runs the work of concurrent callers in groups, the way a
// database's group commit does: whoever finds no group running runs its
// own work at once, alone; calls that arrive meanwhile wait and run
// together as the next group. Under load the groups grow by themselves and
// one round trip, commit or flush serves many callers; without load no
// call waits for company.
package group

import (
	"fmt"
	"sync"
)

// Group hands the items of concurrent Do calls to a run function in
// groups of at most a maximum size. Run receives the items in the order
// their calls arrived and returns one result per item, in the same order.
// A Group is safe for concurrent use; its zero value is not usable (New).
type Group[T, R any] struct {
	max     int // items in a group
	leaders int // groups running at once
	run     func(items []T) []R

	mu      sync.Mutex
	pending []*call[T, R]
	running int // groups running
}

// call is one caller's item and where its result goes.
type call[T, R any] struct {
	item T
	done chan outcome[R] // buffered: the outcome, exactly once
	lead chan struct{}   // buffered: this call leads the next group
}

// outcome is a call's result, or the value run panicked with.
type outcome[R any] struct {
	result   R
	panicked any
}

// New returns a Group whose groups hold at most size items (at least 1),
// each group run by run. run must return len(items) results; it runs on
// the goroutine of one of the group's callers (the leader), one group at
// a time. If run panics, or returns another count, every call of that
// group panics with that value and the next group runs as usual.
func New[T, R any](size int, run func(items []T) []R) *Group[T, R] {
	return NewConcurrent(size, 1, run)
}

// NewConcurrent is New with up to leaders groups running at once: a call
// finding fewer running leads a group at once, as a lone call does in
// New. It suits work whose groups wait more than they compute (a round
// trip to a database, then to a broker): while one group waits, the
// next runs. run may then run on several goroutines at once.
func NewConcurrent[T, R any](size, leaders int, run func(items []T) []R) *Group[T, R] {
	return &Group[T, R]{max: max(1, size), leaders: max(1, leaders), run: run}
}

// Do runs item in a group with the items of concurrent calls and returns
// its result. The first caller with no group running leads: it runs a
// group of every call waiting (itself first, at most the maximum), then
// hands the lead to the first call that arrived meanwhile. A lone call
// runs at once.
func (g *Group[T, R]) Do(item T) R {
	c := &call[T, R]{item: item, done: make(chan outcome[R], 1), lead: make(chan struct{}, 1)}
	g.mu.Lock()
	leader := g.running < g.leaders
	if leader {
		g.running++
	} else {
		g.pending = append(g.pending, c)
	}
	g.mu.Unlock()
	if !leader {
		select {
		case o := <-c.done:
			return o.get()
		case <-c.lead:
			// Handed the lead: taken out of pending by the leader before.
		}
	}
	// Leading: c, then the calls waiting, oldest first.
	g.mu.Lock()
	n := min(len(g.pending), g.max-1)
	calls := append([]*call[T, R]{c}, g.pending[:n]...)
	g.pending = append(g.pending[:0], g.pending[n:]...)
	g.mu.Unlock()

	for i, o := range g.runGroup(calls) {
		calls[i].done <- o
	}

	// Hand the lead to the oldest waiting call, out of pending, so that
	// no other leader takes it into a group or hands it the lead again.
	g.mu.Lock()
	if len(g.pending) > 0 {
		next := g.pending[0]
		g.pending = append(g.pending[:0], g.pending[1:]...)
		next.lead <- struct{}{}
	} else {
		g.running--
	}
	g.mu.Unlock()
	return (<-c.done).get()
}

// runGroup runs the items of calls and returns one outcome per call: a
// panic of run, or a result count unlike the item count, becomes every
// call's outcome, so that no caller waits forever.
func (g *Group[T, R]) runGroup(calls []*call[T, R]) (outcomes []outcome[R]) {
	outcomes = make([]outcome[R], len(calls))
	defer func() {
		if p := recover(); p != nil {
			for i := range outcomes {
				outcomes[i] = outcome[R]{panicked: p}
			}
		}
	}()
	items := make([]T, len(calls))
	for i, c := range calls {
		items[i] = c.item
	}
	results := g.run(items)
	if len(results) != len(items) {
		panic(fmt.Sprintf("group: run returned %d results for %d items", len(results), len(items)))
	}
	for i, r := range results {
		outcomes[i].result = r
	}
	return outcomes
}

// get returns o's result, or panics with the value run panicked with.
func (o outcome[R]) get() R {
	if o.panicked != nil {
		panic(o.panicked)
	}
	return o.result
}
