package pgdb

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// MaxGroup is the most calls one TxGroup transaction holds: twice a
// consumer's default concurrency, so that a group is every handler waiting.
const MaxGroup = 16

// TxGroup runs the transactions of concurrent callers as one (group
// commit), for consumers whose handlers each commit a small transaction:
// one COMMIT and WAL flush, and one hold of the row locks taken, for every
// call that arrived while the previous group ran. Where handlers contend
// for the same rows (the inventory service's stock levels, locked until
// COMMIT), that turns a queue of flushes into one.
//
// The first caller with no group running leads: it runs a group of every
// call waiting (itself first, at most MaxGroup), then hands the lead to
// the first call that arrived meanwhile (at most MaxGroup calls a group).
// A lone call runs at once, alone.
// Each call's work runs under a savepoint, so a failing one is rolled back
// to it and fails alone; if COMMIT fails, every call of the group fails
// and nothing of it is stored. A call returns only once its group has
// committed or rolled back, so the caller acknowledges its message after
// the commit. Calls run one after another in one transaction, so a
// group's row locks may be taken in any order; a deadlock with another
// instance's group fails the call that hit it, alone, to be retried.
// A TxGroup is safe for concurrent use.
type TxGroup struct {
	pool    *pgxpool.Pool
	timeout time.Duration // of a whole group transaction

	mu      sync.Mutex
	pending []*groupCall
	running bool // a leader is running a group
}

// groupCall is one caller's work and where its result goes.
type groupCall struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx pgx.Tx) error
	done chan error    // buffered: the result, exactly once
	lead chan struct{} // buffered: this call leads the next group
}

// NewTxGroup returns a TxGroup on pool whose transactions, each a whole
// group, last at most timeout.
func NewTxGroup(pool *pgxpool.Pool, timeout time.Duration) *TxGroup {
	return &TxGroup{pool: pool, timeout: timeout}
}

// Do runs fn in a transaction shared with concurrent calls and returns
// fn's error, or the transaction's if it could not begin or commit. fn
// must not keep tx or commit it; it runs with ctx's values, without its
// cancellation, under the group's deadline; it may run on another
// caller's goroutine.
func (g *TxGroup) Do(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	c := &groupCall{ctx: ctx, fn: fn, done: make(chan error, 1), lead: make(chan struct{}, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, c)
	leader := !g.running
	g.running = true
	g.mu.Unlock()
	if !leader {
		select {
		case err := <-c.done:
			return err
		case <-c.lead:
		}
	}
	// Leading: c is the first pending call.
	g.mu.Lock()
	n := min(len(g.pending), MaxGroup)
	group := make([]*groupCall, n)
	copy(group, g.pending)
	g.pending = append(g.pending[:0], g.pending[n:]...)
	g.mu.Unlock()

	g.run(group)

	g.mu.Lock()
	if len(g.pending) > 0 {
		g.pending[0].lead <- struct{}{}
	} else {
		g.running = false
	}
	g.mu.Unlock()
	return <-c.done
}

// run runs group in one transaction and answers every call of it.
func (g *TxGroup) run(group []*groupCall) {
	ctx, cancel := context.WithTimeout(context.Background(), g.timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	results := make([]error, len(group))
	answer := func(common error) {
		for i, c := range group {
			if results[i] == nil {
				results[i] = common
			}
			c.done <- results[i]
		}
	}
	tx, err := g.pool.Begin(ctx)
	if err != nil {
		answer(fmt.Errorf("begin: %w", err))
		return
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }() // a no-op after COMMIT
	ok := 0
	for i, c := range group {
		cctx, ccancel := context.WithDeadline(context.WithoutCancel(c.ctx), deadline)
		if len(group) > 1 {
			if _, err := tx.Exec(ctx, "SAVEPOINT group_call"); err != nil {
				ccancel()
				answer(fmt.Errorf("savepoint: %w", err))
				return
			}
		}
		results[i] = callSafely(cctx, tx, c.fn)
		ccancel()
		if results[i] == nil {
			ok++
			continue
		}
		if len(group) == 1 {
			answer(nil)
			return
		}
		if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT group_call"); err != nil {
			answer(fmt.Errorf("rollback to savepoint: %w", err))
			return
		}
	}
	if ok == 0 {
		answer(nil)
		return
	}
	if err := tx.Commit(ctx); err != nil {
		answer(fmt.Errorf("commit: %w", err))
		return
	}
	answer(nil)
}

// callSafely calls fn, turning a panic into an error: the leader runs
// other callers' work, and a panic must not leave them waiting.
func callSafely(ctx context.Context, tx pgx.Tx, fn func(context.Context, pgx.Tx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("group call panicked: %v", p)
		}
	}()
	return fn(ctx, tx)
}
