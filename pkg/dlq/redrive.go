package dlq

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
)

// RedriveOptions tune Redrive and RedriveMatching.
type RedriveOptions struct {
	// Wait bounds how long to wait, after republishing, for the durables
	// to acknowledge; 0 means 30s.
	Wait time.Duration
	// PollInterval is how often the durables' ack floors are read; 0
	// means 100ms.
	PollInterval time.Duration
}

func (o *RedriveOptions) setDefaults() {
	if o.Wait <= 0 {
		o.Wait = 30 * time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 100 * time.Millisecond
	}
}

// RedriveResult is what became of one dead letter.
type RedriveResult struct {
	// Entry is the dead letter (only Seq is set when it could not be read).
	Entry Entry
	// Republished is the republished message's sequence in its original
	// stream, or 0 when it was not republished.
	Republished uint64
	// Duplicate means the stream already held this redrive (an earlier
	// one inside the duplicate window); Republished is that message's.
	Duplicate bool
	// Acked means the durable acknowledged the republished message and the
	// DLQ copy was deleted.
	Acked bool
	// DeadLetteredAgain is the DLQ sequence of the new dead letter the
	// durable made of the republished message (it failed permanently
	// again), or 0.
	DeadLetteredAgain uint64
	// Err is why the redrive did not complete; it wraps ErrNotFound,
	// ErrNotDeadLetter, ErrNoConsumer, ErrTruncated or ErrNotAcked, or is
	// a NATS error.
	Err error
}

// Redrive republishes the dead letters at the given DLQ sequences to their
// original subjects, each for the durable that gave up on it (see the
// package documentation), then waits up to opts.Wait for each durable's
// ack floor to pass its republished message and deletes each acknowledged
// one's DLQ copy. A dead letter whose durable does not exist is not
// republished. It returns one result per sequence, in order, and an error
// joining the results' errors (nil when every dead letter was redriven and
// acknowledged).
func (d *DLQ) Redrive(ctx context.Context, seqs []uint64, opts RedriveOptions) ([]RedriveResult, error) {
	opts.setDefaults()
	results := make([]RedriveResult, len(seqs))
	known := map[target]error{}
	for i, seq := range seqs {
		results[i].Entry.Seq = seq
		m, err := d.Show(ctx, seq)
		if err != nil {
			results[i].Err = fmt.Errorf("redrive: %w", err)
			continue
		}
		results[i] = d.republish(ctx, m, known)
	}
	d.await(ctx, results, opts)
	return results, joinResults(results)
}

// RedriveMatching redrives every dead letter List(f) returns, as Redrive
// does; it returns an error without redriving anything when the listing
// fails.
func (d *DLQ) RedriveMatching(ctx context.Context, f Filter, opts RedriveOptions) ([]RedriveResult, error) {
	entries, err := d.List(ctx, f)
	if err != nil {
		return nil, err
	}
	seqs := make([]uint64, len(entries))
	for i, e := range entries {
		seqs[i] = e.Seq
	}
	return d.Redrive(ctx, seqs, opts)
}

// target is a durable on its stream.
type target struct{ stream, durable string }

// republish publishes m to its original subject for its durable, unless
// the durable does not exist (known caches that check per target).
func (d *DLQ) republish(ctx context.Context, m *Message, known map[target]error) RedriveResult {
	r := RedriveResult{Entry: m.Entry}
	durable, stream := header(m.Header, natsjs.HeaderConsumer), header(m.Header, natsjs.HeaderStream)
	if durable == "" || stream == "" || m.Subject == "" {
		r.Err = fmt.Errorf("redrive dlq seq %d: %w: subject %q, %s %q, %s %q", m.Seq, ErrNotDeadLetter,
			m.Subject, natsjs.HeaderConsumer, durable, natsjs.HeaderStream, stream)
		return r
	}
	t := target{stream, durable}
	err, checked := known[t]
	if !checked {
		_, err = d.js.Consumer(ctx, stream, durable)
		if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
			err = fmt.Errorf("%w: %s on stream %s", ErrNoConsumer, durable, stream)
		}
		known[t] = err
	}
	if err != nil {
		r.Err = fmt.Errorf("redrive dlq seq %d: %w", m.Seq, err)
		return r
	}

	data := m.Data
	if m.Truncated {
		if data, err = d.originalBody(ctx, m); err != nil {
			r.Err = fmt.Errorf("redrive dlq seq %d: %w", m.Seq, err)
			return r
		}
	}
	h := nats.Header{}
	for k, v := range m.Header {
		lk := strings.ToLower(k)
		if !strings.HasPrefix(lk, "nats-") && !strings.HasPrefix(lk, "orderbus-") {
			h[k] = slices.Clone(v)
		}
	}
	h.Set(natsjs.HeaderRedriveFor, durable)
	h.Set(natsjs.HeaderRedriveOf, strconv.FormatUint(m.Seq, 10))
	out := &nats.Msg{Subject: m.Subject, Header: h, Data: data}
	ack, err := d.js.PublishMsg(ctx, out,
		jetstream.WithMsgID(RedriveMsgID(durable, m.Seq)), jetstream.WithExpectStream(stream))
	if err != nil {
		r.Err = fmt.Errorf("redrive dlq seq %d to %s: %w", m.Seq, m.Subject, err)
		return r
	}
	r.Republished, r.Duplicate = ack.Sequence, ack.Duplicate
	return r
}

// originalBody returns the body of a truncated dead letter's original
// message, read from its stream, or an error wrapping ErrTruncated when it
// is gone (or another message took its sequence, which cannot happen).
func (d *DLQ) originalBody(ctx context.Context, m *Message) ([]byte, error) {
	s, err := d.js.Stream(ctx, m.Stream)
	if err != nil {
		return nil, fmt.Errorf("body from %s seq %d: %w", m.Stream, m.StreamSeq, err)
	}
	raw, err := s.GetMsg(ctx, m.StreamSeq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, fmt.Errorf("%w: %s seq %d", ErrTruncated, m.Stream, m.StreamSeq)
	}
	if err != nil {
		return nil, fmt.Errorf("body from %s seq %d: %w", m.Stream, m.StreamSeq, err)
	}
	if raw.Subject != m.Subject || header(raw.Header, events.HeaderID) != m.ID {
		return nil, fmt.Errorf("%w: %s seq %d is another message", ErrTruncated, m.Stream, m.StreamSeq)
	}
	return raw.Data, nil
}

// RedriveMsgID returns the Nats-Msg-Id of the redrive of the dead letter
// at DLQ sequence seq for durable: redrive:<durable>:<seq>.
func RedriveMsgID(durable string, seq uint64) string {
	return fmt.Sprintf("redrive:%s:%d", durable, seq)
}

// await polls the durables of the republished results until each has
// acknowledged its message (then deletes the DLQ copy) or opts.Wait
// passes (then sets ErrNotAcked).
func (d *DLQ) await(ctx context.Context, results []RedriveResult, opts RedriveOptions) {
	waiting := func() (n int) {
		for _, r := range results {
			if r.Err == nil && !r.Acked {
				n++
			}
		}
		return n
	}
	expired, cancel := context.WithTimeout(ctx, opts.Wait)
	defer cancel()
	tick := time.NewTicker(opts.PollInterval)
	defer tick.Stop()
	for waiting() > 0 {
		floors := map[target]uint64{}
		for i := range results {
			r := &results[i]
			if r.Err != nil || r.Acked {
				continue
			}
			t := target{r.Entry.Stream, r.Entry.Consumer}
			floor, ok := floors[t]
			if !ok {
				floor = d.ackFloor(ctx, t)
				floors[t] = floor
			}
			if floor >= r.Republished {
				d.finish(ctx, r)
			}
		}
		if waiting() == 0 {
			return
		}
		select {
		case <-expired.Done():
			for i := range results {
				r := &results[i]
				switch {
				case r.Err != nil || r.Acked:
				case ctx.Err() != nil:
					r.Err = fmt.Errorf("redrive dlq seq %d: waiting for %s to acknowledge %s seq %d: %w; the dead letter stays in the DLQ",
						r.Entry.Seq, r.Entry.Consumer, r.Entry.Stream, r.Republished, ctx.Err())
				default:
					r.Err = fmt.Errorf("redrive dlq seq %d: %w: %s did not acknowledge %s seq %d within %v; the dead letter stays in the DLQ",
						r.Entry.Seq, ErrNotAcked, r.Entry.Consumer, r.Entry.Stream, r.Republished, opts.Wait)
				}
			}
			return
		case <-tick.C:
		}
	}
}

// ackFloor returns the durable's ack floor stream sequence, or 0 when it
// cannot be read now (the next poll tries again).
func (d *DLQ) ackFloor(ctx context.Context, t target) uint64 {
	c, err := d.js.Consumer(ctx, t.stream, t.durable)
	if err != nil {
		return 0
	}
	return c.CachedInfo().AckFloor.Stream
}

// finish records that r's durable acknowledged its redrive: it looks for a
// new dead letter of the republished message, then deletes the old copy.
func (d *DLQ) finish(ctx context.Context, r *RedriveResult) {
	r.DeadLetteredAgain = d.deadLetteredAgain(ctx, r)
	err := d.stream.DeleteMsg(ctx, r.Entry.Seq)
	if err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		r.Err = fmt.Errorf("redrive dlq seq %d: acknowledged, but deleting the dead letter: %w", r.Entry.Seq, err)
		return
	}
	r.Acked = true
}

// deadLetteredAgain returns the DLQ sequence of a dead letter stored after
// r's on the same DLQ subject for the republished message, or 0. The
// runner stores that copy before it terminates the message, so once the
// ack floor has passed it, it is there.
func (d *DLQ) deadLetteredAgain(ctx context.Context, r *RedriveResult) uint64 {
	subject := events.DLQSubject(r.Entry.Consumer, r.Entry.Subject)
	next := r.Entry.Seq + 1
	for range 1000 { // other dead letters of the same customer's subject
		m, err := d.stream.GetMsg(ctx, next, jetstream.WithGetMsgSubject(subject))
		if err != nil {
			return 0
		}
		if header(m.Header, natsjs.HeaderStream) == r.Entry.Stream &&
			header(m.Header, natsjs.HeaderStreamSeq) == strconv.FormatUint(r.Republished, 10) {
			return m.Sequence
		}
		next = m.Sequence + 1
	}
	return 0
}

func joinResults(results []RedriveResult) error {
	var errs []error
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
	}
	return errors.Join(errs...)
}
