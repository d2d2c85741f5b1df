package pgdb_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/pkg/pgdb"
)

// TestTxGroupIsolatesFailures runs many concurrent calls, every fifth
// failing after it wrote, one panicking and one whose statement fails:
// every other call's row is stored, once, no failing one's is, and the
// calls shared transactions (fewer than one per call).
func TestTxGroupIsolatesFailures(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool, err := pgdb.Open(ctx, cluster.NewDatabase(t), pgdb.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, `CREATE TABLE group_rows (n int PRIMARY KEY, tx xid8 NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	g := pgdb.NewTxGroup(pool, 10*time.Second)
	errFail := errors.New("fails on purpose")
	const calls = 60
	results := make([]error, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			results[i] = g.Do(ctx, func(ctx context.Context, tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `INSERT INTO group_rows VALUES ($1, pg_current_xact_id())`, i); err != nil {
					return err
				}
				if i%5 == 0 {
					return errFail
				}
				if i == 7 {
					panic("on purpose")
				}
				if i == 13 { // a failing statement aborts the transaction
					_, err := tx.Exec(ctx, `SELECT 1 / 0`)
					return err
				}
				return nil
			})
		})
	}
	wg.Wait()
	for i, err := range results {
		switch {
		case i%5 == 0 && !errors.Is(err, errFail):
			t.Errorf("call %d: %v, want its own error", i, err)
		case (i == 7 || i == 13) && err == nil:
			t.Errorf("call %d failed: got no error", i)
		case i%5 != 0 && i != 7 && i != 13 && err != nil:
			t.Errorf("call %d: %v", i, err)
		}
	}
	var stored, failed, txs int
	if err := pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE n % 5 = 0 OR n = 7 OR n = 13), count(DISTINCT tx)
		FROM group_rows`).Scan(&stored, &failed, &txs); err != nil {
		t.Fatal(err)
	}
	if want := calls - calls/5 - 2; stored != want || failed != 0 {
		t.Errorf("stored %d rows (%d of failed calls), want %d (0)", stored, failed, want)
	}
	t.Logf("%d calls committed in %d transactions", stored, txs)
	if txs >= stored {
		t.Errorf("%d transactions for %d calls: no call shared one", txs, stored)
	}
}
