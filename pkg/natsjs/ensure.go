package natsjs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// recreateMargin is how far before it was last seen a durable lost at run
// time (deleted, or its stream deleted and recreated) restarts: clocks of
// client and server may differ, and the handlers' idempotency absorbs the
// few messages delivered again.
const recreateMargin = time.Minute

// ensure makes the durable exist with cfg. An existing durable is updated
// with its own deliver policy and start position, which JetStream refuses
// to change, so it keeps its place in the stream. A missing one is
// created at the start position startPosition gives.
func (c *Consumer) ensure(ctx context.Context, inNewConsumer bool) error {
	err := c.ensureOnce(ctx, inNewConsumer)
	if errors.Is(err, jetstream.ErrConsumerExists) {
		// Another instance created it between the lookup and the create.
		err = c.ensureOnce(ctx, inNewConsumer)
	}
	if err != nil {
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			c.created.Store(false)
		}
		return fmt.Errorf("create consumer %s on %s: %w", c.cfg.Durable, c.cfg.Stream, err)
	}
	return nil
}

func (c *Consumer) ensureOnce(ctx context.Context, inNewConsumer bool) error {
	want := c.cfg.serverConfig()
	cons, err := c.js.Consumer(ctx, c.cfg.Stream, c.cfg.Durable)
	switch {
	case err == nil:
		have := cons.CachedInfo().Config
		want.DeliverPolicy, want.OptStartSeq, want.OptStartTime = have.DeliverPolicy, have.OptStartSeq, have.OptStartTime
		if cons, err = c.js.UpdateConsumer(ctx, c.cfg.Stream, want); err != nil {
			return err
		}
	case errors.Is(err, jetstream.ErrConsumerNotFound):
		c.created.Store(false)
		c.startPosition(&want, inNewConsumer)
		if cons, err = c.js.CreateConsumer(ctx, c.cfg.Stream, want); err != nil {
			return err
		}
		c.log.Info("consumer created", "deliver_policy", want.DeliverPolicy.String())
	default:
		return err
	}
	c.cons = cons
	c.created.Store(true)
	c.markSeen()
	return nil
}

// startPosition sets where a durable about to be created starts:
//   - created by NewConsumer: with the messages published from now on
//     (DeliverNew), or the whole stream with ReplayHistory;
//   - created later by Run, because the stream did not exist yet or NATS
//     was unreachable: with the messages stored since NewConsumer was
//     called (or the whole stream), so that nothing published while the
//     service was starting is skipped;
//   - recreated by Run after it went missing at run time (deleted, or its
//     stream deleted and recreated): with the messages stored since it
//     was last seen, less recreateMargin, whatever ReplayHistory says.
func (c *Consumer) startPosition(want *jetstream.ConsumerConfig, inNewConsumer bool) {
	var start time.Time
	switch seen := c.lastSeen(); {
	case !seen.IsZero():
		start = seen.Add(-recreateMargin)
	case inNewConsumer || c.cfg.ReplayHistory:
		return // serverConfig's policy
	default:
		start = c.started
	}
	want.DeliverPolicy, want.OptStartTime = jetstream.DeliverByStartTimePolicy, &start
}

// markSeen records that the durable exists now.
func (c *Consumer) markSeen() { c.seen.Store(time.Now().UnixNano()) }

// lastSeen is when the durable was last known to exist; zero if never.
func (c *Consumer) lastSeen() time.Time {
	n := c.seen.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
