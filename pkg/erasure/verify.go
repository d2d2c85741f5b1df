package erasure

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/inbox"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/pgdb"
)

// errNotSettled is wrapped by handleVerify's error while a consumer has
// not yet settled every message up to the purge bound, or while the
// erasure found records again: a transient error, so the request is
// retried with the consumer's backoff.
var errNotSettled = errors.New("erasure not verified yet")

// handleVerify verifies an erasure once the gdpr service has purged its
// messages, and answers gdpr.erasure.verified.<service>:
//
//   - every consumer in Consumers has settled each message up to the
//     purge bound of its stream (its ack floor is past the bound, or
//     nothing is pending and nothing is waiting for an ack), so nothing
//     of the customer stored before the purge is still in flight;
//   - under the customer's erasure lock, which waits for every effect
//     transaction in flight, the Eraser (and the outbox) find nothing
//     left to erase from before the cut-off.
//
// Until both hold it returns a transient error (the runner retries it with
// backoff); records found again are erased and committed then, and the
// next attempt finds none. A verification already answered (the inbox)
// is acknowledged.
func (p Participant) handleVerify(ctx context.Context, msg natsjs.Message) error {
	var req events.ErasureVerify
	if err := msg.Event.Decode(&req); err != nil {
		return err // events.ErrMalformed: the runner dead-letters it
	}
	if _, err := uuid.Parse(req.ErasureID); err != nil {
		return natsjs.Permanent(fmt.Errorf("erasure verify: erasure id: %w", err))
	}
	customer, err := uuid.Parse(req.CustomerID)
	if err != nil {
		return natsjs.Permanent(fmt.Errorf("erasure verify %s: customer id: %w", req.ErasureID, err))
	}
	floors, err := p.settled(ctx, req.Bounds)
	if err != nil {
		return fmt.Errorf("erasure verify %s: %w", req.ErasureID, err)
	}

	var (
		answer    events.Event
		remaining map[string]int64
	)
	err = pgx.BeginFunc(ctx, p.Pool, func(tx pgx.Tx) error {
		if err := lockExclusive(ctx, tx, customer.String()); err != nil {
			return err
		}
		remaining, err = p.erase(ctx, tx, customer.String(), cutoff(req.RequestedAt))
		if err != nil || total(remaining) > 0 {
			return err // records found again: commit their erasure, verify again later
		}
		first, err := inbox.Record(ctx, tx, p.Durable(), msg.Event.ID)
		if err != nil || !first {
			return err // answered in the transaction that recorded it
		}
		suppressed, err := suppressedCount(ctx, tx, customer.String())
		if err != nil {
			return err
		}
		answer, err = events.New("/orderbus/"+p.Service, events.TypeErasureVerified, req.ErasureID,
			events.ErasureVerified{
				ErasureID: req.ErasureID, CustomerID: customer.String(), Service: p.Service,
				Remaining: remaining, Suppressed: suppressed, Consumers: floors, VerifiedAt: time.Now().UTC(),
			})
		if err != nil {
			return err
		}
		return outbox.Enqueue(ctx, tx, events.ErasureVerifiedSubject(p.Service), answer)
	})
	if err != nil {
		return pgdb.Classify(fmt.Errorf("erasure verify %s: %w", req.ErasureID, err))
	}
	log := p.Logger.With("erasure_id", req.ErasureID)
	if left := total(remaining); left > 0 {
		log.Warn("verification found records of the customer again, and erased them; verifying again",
			"remaining", remaining)
		return fmt.Errorf("%w: %d records of erasure %s found again", errNotSettled, left, req.ErasureID)
	}
	if answer.ID == "" {
		return nil
	}
	log.Info("erasure verified", "consumers", floors)
	p.Relay.PublishNow(ctx, log, answer.ID)
	return nil
}

// settled returns each of p.Consumers' ack floor once all of them have
// settled every message up to bounds[stream], or an error wrapping
// errNotSettled naming the first that has not (or the error reading it).
func (p Participant) settled(ctx context.Context, bounds map[string]uint64) (map[string]uint64, error) {
	floors := make(map[string]uint64, len(p.Consumers))
	for _, c := range p.Consumers {
		bound := bounds[c.Stream]
		cons, err := p.JS.Consumer(ctx, c.Stream, c.Durable)
		if err != nil {
			return nil, fmt.Errorf("read consumer %s: %w", c.Durable, err)
		}
		info, err := cons.Info(ctx)
		if err != nil {
			return nil, fmt.Errorf("read consumer %s: %w", c.Durable, err)
		}
		floors[c.Durable] = info.AckFloor.Stream
		caughtUp := info.NumAckPending == 0 && (info.Delivered.Stream >= bound || info.NumPending == 0)
		if info.AckFloor.Stream < bound && !caughtUp {
			return nil, fmt.Errorf("%w: consumer %s has settled up to %d of %s, not up to the purge bound %d (%d waiting for an ack)",
				errNotSettled, c.Durable, info.AckFloor.Stream, c.Stream, bound, info.NumAckPending)
		}
	}
	return floors, nil
}

// total sums counts.
func total(counts map[string]int64) int64 {
	var n int64
	for _, c := range counts {
		n += c
	}
	return n
}
