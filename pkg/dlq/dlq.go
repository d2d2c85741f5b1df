package dlq

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
)

// scanBatch is how many dead letters one fetch of a listing asks for.
const scanBatch = 256

// scanWait bounds one fetch of a listing; it is reached only when dead
// letters are removed while they are listed.
const scanWait = 2 * time.Second

// DLQ reads and changes the DLQ stream of one JetStream. Its methods are
// safe for concurrent use.
type DLQ struct {
	js     jetstream.JetStream
	stream jetstream.Stream
}

// Open returns a DLQ over js's DLQ stream (events.StreamDLQ). It returns
// an error wrapping ErrNoStream when that stream does not exist.
func Open(ctx context.Context, js jetstream.JetStream) (*DLQ, error) {
	s, err := js.Stream(ctx, events.StreamDLQ)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("open %s: %w", events.StreamDLQ, ErrNoStream)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", events.StreamDLQ, err)
	}
	return &DLQ{js: js, stream: s}, nil
}

// List returns the dead letters matching f, oldest first. It reads the
// stream once with an ephemeral consumer filtered on the subject part of
// f (dlq.<consumer>.<subject>), starting at the newer bound, and checks
// the other conditions itself.
func (d *DLQ) List(ctx context.Context, f Filter) ([]Entry, error) {
	var out []Entry
	err := d.scan(ctx, f, func(e Entry) { out = append(out, e) })
	return out, err
}

// Show returns the dead letter at DLQ sequence seq with its headers and
// body. It returns an error wrapping ErrNotFound when there is none.
func (d *DLQ) Show(ctx context.Context, seq uint64) (*Message, error) {
	raw, err := d.stream.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, fmt.Errorf("show dlq seq %d: %w", seq, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("show dlq seq %d: %w", seq, err)
	}
	return &Message{
		Entry:  newEntry(raw.Sequence, raw.Time, raw.Subject, raw.Header, raw.Data),
		Header: raw.Header,
		Data:   raw.Data,
	}, nil
}

// Purge deletes the dead letters matching f (every one for the zero
// Filter) and returns those it deleted. A dead letter removed by someone
// else meanwhile is skipped. On an error it returns what it deleted so far.
func (d *DLQ) Purge(ctx context.Context, f Filter) ([]Entry, error) {
	matched, err := d.List(ctx, f)
	if err != nil {
		return nil, err
	}
	var deleted []Entry
	for _, e := range matched {
		err := d.stream.DeleteMsg(ctx, e.Seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return deleted, fmt.Errorf("purge dlq seq %d: %w", e.Seq, err)
		}
		deleted = append(deleted, e)
	}
	return deleted, nil
}

// scan calls fn for each dead letter matching f, in stream order.
func (d *DLQ) scan(ctx context.Context, f Filter, fn func(Entry)) error {
	now := time.Now()
	cfg := jetstream.ConsumerConfig{
		Description:       "orderbus-dlq listing",
		FilterSubject:     f.streamFilter(),
		DeliverPolicy:     jetstream.DeliverAllPolicy,
		AckPolicy:         jetstream.AckNonePolicy,
		MemoryStorage:     true,
		InactiveThreshold: time.Minute,
	}
	if f.Newer > 0 {
		start := now.Add(-f.Newer)
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &start
	}
	cons, err := d.stream.CreateConsumer(ctx, cfg)
	if err != nil {
		return fmt.Errorf("list %s %s: %w", events.StreamDLQ, cfg.FilterSubject, err)
	}
	name := cons.CachedInfo().Name
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = d.stream.DeleteConsumer(ctx, name) // else InactiveThreshold removes it
	}()
	left := cons.CachedInfo().NumPending
	for left > 0 {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("list %s: %w", events.StreamDLQ, err)
		}
		batch, err := cons.Fetch(int(min(left, scanBatch)), jetstream.FetchMaxWait(scanWait))
		if err != nil {
			return fmt.Errorf("list %s %s: %w", events.StreamDLQ, cfg.FilterSubject, err)
		}
		got := 0
		for msg := range batch.Messages() {
			got++
			meta, err := msg.Metadata()
			if err != nil {
				return fmt.Errorf("list %s: %w", events.StreamDLQ, err)
			}
			left = meta.NumPending
			if e := newEntry(meta.Sequence.Stream, meta.Timestamp, msg.Subject(), msg.Headers(), msg.Data()); f.Match(e, now) {
				fn(e)
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return fmt.Errorf("list %s %s: %w", events.StreamDLQ, cfg.FilterSubject, err)
		}
		if got == 0 { // what was pending was deleted meanwhile
			return ctx.Err()
		}
	}
	return nil
}
