package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/pkg/group"
	"github.com/orderbus/orderbus/pkg/outbox"
)

// maxPlacementGroup is the most orders one placement transaction holds.
// Groups form only from requests that arrive while the previous one runs,
// so it bounds the wait of a burst, not the latency of a lone order.
const maxPlacementGroup = 32

// placementGroups is how many groups run at once. A group spends most of
// its time waiting: on PostgreSQL's commit, then on JetStream's fsync of
// each event, then on the outbox delete; while one waits at NATS the
// next can commit. Measured with make bench BENCH_FLAGS=-quick (order
// service alone, 8 clients): 1 group at a time 1,160 orders/s, 2 at once
// 1,515, 4 at once 1,564 with the open loop's accept p99 at 7 ms.
const placementGroups = 4

// placer stores the orders of concurrent requests in shared transactions
// (group commit): an order arriving while fewer than placementGroups
// groups run is stored at once, alone (placeFast); the orders that arrive
// while they all run are stored together as the next group, in one transaction and one round trip, their events
// then published pipelined and their outbox rows deleted in one more
// round trip. Under load, one COMMIT and WAL flush, one NATS round trip
// and one outbox delete serve many customers; each request is still
// answered only once its order is committed and, as far as it goes, its
// event stored by JetStream.
//
// A group is all or nothing in the database: if any statement fails (an
// idempotency key taken, an erasure that committed meanwhile, a
// constraint), the group is rolled back and each of its orders is placed
// on its own, so that the failure is its order's alone. Concurrent
// requests have no order among them, so publishing a group's events
// pipelined orders nothing that was ordered.
type placer struct {
	logger *slog.Logger
	store  *Store
	relay  *outbox.Relay
	group  *group.Group[groupedPlacement, placed]
}

// groupedPlacement is one request's placement and its context (for the
// trace stamped on its event and for placing it alone).
type groupedPlacement struct {
	ctx context.Context
	p   placement
}

// placed is the outcome of placeFast for one placement.
type placed struct {
	published bool
	err       error
}

// newPlacer returns a placer storing orders in store's database and
// publishing their events with relay.
func newPlacer(logger *slog.Logger, store *Store, relay *outbox.Relay) *placer {
	pl := &placer{logger: logger, store: store, relay: relay}
	pl.group = group.NewConcurrent(maxPlacementGroup, placementGroups, pl.run)
	return pl
}

// place is placeFast for p, run together with concurrent placements: it
// returns once p's transaction (maybe shared) committed or failed, with
// placeFast's results and errors.
func (pl *placer) place(ctx context.Context, p placement) (bool, error) {
	r := pl.group.Do(groupedPlacement{ctx: ctx, p: p})
	return r.published, r.err
}

// run places a group: a lone placement alone, several in one transaction.
// When a statement of that transaction fails, its placement is set aside
// to be placed alone (where it gets its own answer: a key taken, an
// erasure meanwhile) and the others are tried together again. A placement
// whose idempotency key an earlier one of the group holds (a retry sent
// while the first request was in flight) is set aside from the start.
// Any other failure (the commit, the connection) places each alone.
func (pl *placer) run(gs []groupedPlacement) []placed {
	out := make([]placed, len(gs))
	var together, alone []int
	keys := map[idempotencyID]bool{}
	for i, g := range gs {
		if k := g.p.Key; k != nil {
			id := idempotencyID{k.CustomerID, k.Key}
			if keys[id] {
				alone = append(alone, i)
				continue
			}
			keys[id] = true
		}
		together = append(together, i)
	}
	for len(together) > 1 {
		published, failed, err := pl.placeTogether(gs, together)
		if err == nil {
			for _, i := range together {
				out[i] = placed{published: published}
			}
			together = nil
			break
		}
		pl.logger.Debug("placement group failed", "orders", len(together), "error", err)
		if failed < 0 {
			break
		}
		alone = append(alone, together[failed])
		together = slices.Delete(together, failed, failed+1)
	}
	for _, i := range append(together, alone...) {
		published, err := placeFast(gs[i].ctx, pl.logger, pl.store, pl.relay, gs[i].p)
		out[i] = placed{published: published, err: err}
	}
	return out
}

// idempotencyID is what names an idempotency record: its customer and key.
type idempotencyID struct{ customer, key string }

// placeTogether stores the placements of gs at indexes in one
// transaction, as placeFast stores one, and publishes their events after
// the commit. It runs under changeTimeout, not under any one request's
// cancellation: the group is every caller's. It returns the error of a
// statement or the commit (nothing is stored then) and, when a statement
// failed, the position in indexes of the placement it belongs to (else
// -1).
func (pl *placer) placeTogether(gs []groupedPlacement, indexes []int) (published bool, failed int, err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(gs[indexes[0]].ctx), changeTimeout)
	defer cancel()
	b := &pgx.Batch{}
	ids := make([]string, len(indexes))
	ends := make([]int, len(indexes)) // ends[n]: statements queued up to placement n, included
	for n, i := range indexes {
		if err := queuePlacement(gs[i].ctx, b, gs[i].p); err != nil {
			return false, n, err
		}
		ids[n], ends[n] = gs[i].p.Event.ID, b.Len()
	}
	_, published, err = pl.relay.CommitAndPublish(ctx, pl.logger, b, ids...)
	if err == nil {
		return published, -1, nil
	}
	err = fmt.Errorf("place %d orders together: %w", len(indexes), err)
	var se *outbox.StatementError
	if !errors.As(err, &se) {
		return false, -1, err
	}
	n, _ := slices.BinarySearch(ends, se.Index+1) // the first placement ending past the statement
	if n == len(ends) {
		return false, -1, err
	}
	return false, n, err
}
