package pgdb

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderbus/orderbus/pkg/group"
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
// Calls are grouped by a group.Group of at most MaxGroup: a lone call
// runs at once, alone; calls that arrive while a group runs form the next.
// A group first runs its calls one after another without savepoints (a
// round trip each). When one fails, it fails alone: the transaction is
// rolled back and the others run again in a new one, each under a
// savepoint, so that a second failure is rolled back to its own. So fn
// may run twice, and must set what it reports afresh each time. If
// COMMIT fails, every call of the group fails and nothing of it is
// stored. A call returns only once its group has
// committed or rolled back, so the caller acknowledges its message after
// the commit. Calls run one after another in one transaction, so a
// group's row locks may be taken in any order; a deadlock with another
// instance's group fails the call that hit it, alone, to be retried.
// A TxGroup is safe for concurrent use.
type TxGroup struct {
	pool    *pgxpool.Pool
	timeout time.Duration // of a whole group transaction
	calls   *group.Group[groupCall, error]
}

// groupCall is one caller's work.
type groupCall struct {
	ctx context.Context
	fn  func(ctx context.Context, tx pgx.Tx) error
}

// NewTxGroup returns a TxGroup on pool whose transactions, each a whole
// group, last at most timeout.
func NewTxGroup(pool *pgxpool.Pool, timeout time.Duration) *TxGroup {
	g := &TxGroup{pool: pool, timeout: timeout}
	g.calls = group.New(MaxGroup, g.run)
	return g
}

// Do runs fn in a transaction shared with concurrent calls and returns
// fn's error, or the transaction's if it could not begin or commit. fn
// must not keep tx or commit it; it runs with ctx's values, without its
// cancellation, under the group's deadline; it may run on another
// caller's goroutine.
func (g *TxGroup) Do(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	return g.calls.Do(groupCall{ctx: ctx, fn: fn})
}

// run runs calls in one transaction and returns each call's error. It
// first runs them all without savepoints, which cost a round trip each;
// when a call fails, that call has its answer, the transaction is rolled
// back, and the others run again in a new one, each under a savepoint.
func (g *TxGroup) run(calls []groupCall) []error {
	results, failed := g.runTx(calls, false)
	if failed < 0 || len(calls) == 1 {
		return results
	}
	others := make([]groupCall, 0, len(calls)-1)
	for i, c := range calls {
		if i != failed {
			others = append(others, c)
		}
	}
	again, _ := g.runTx(others, true)
	copy(results[failed+1:], again[failed:])
	copy(results, again[:failed])
	return results
}

// runTx runs calls in one transaction, each under a savepoint when
// savepoints is set, and returns each call's error. Without savepoints it
// stops at the first call that fails, rolls back, and returns that call's
// index (-1 when none failed); the others' results are then nil and
// nothing of theirs is stored.
func (g *TxGroup) runTx(calls []groupCall, savepoints bool) (results []error, failed int) {
	ctx, cancel := context.WithTimeout(context.Background(), g.timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	results = make([]error, len(calls))
	// answer gives common to every call without an error of its own.
	answer := func(common error) ([]error, int) {
		for i := range results {
			if results[i] == nil {
				results[i] = common
			}
		}
		return results, -1
	}
	tx, err := g.pool.Begin(ctx)
	if err != nil {
		return answer(fmt.Errorf("begin: %w", err))
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }() // a no-op after COMMIT
	ok := 0
	for i, c := range calls {
		cctx, ccancel := context.WithDeadline(context.WithoutCancel(c.ctx), deadline)
		if savepoints {
			if _, err := tx.Exec(ctx, "SAVEPOINT group_call"); err != nil {
				ccancel()
				return answer(fmt.Errorf("savepoint: %w", err))
			}
		}
		results[i] = callSafely(cctx, tx, c.fn)
		ccancel()
		if results[i] == nil {
			ok++
			continue
		}
		if !savepoints {
			return results, i // rolled back by the deferred Rollback
		}
		if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT group_call"); err != nil {
			return answer(fmt.Errorf("rollback to savepoint: %w", err))
		}
	}
	if ok == 0 {
		return answer(nil)
	}
	if err := tx.Commit(ctx); err != nil {
		return answer(fmt.Errorf("commit: %w", err))
	}
	return answer(nil)
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
