package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
)

// purgeTimeout bounds the purge of one stream.
const purgeTimeout = 5 * time.Second

// streamFilter is a stream and a subject filter of it.
type streamFilter struct {
	Stream, Filter string
}

// purgeFilters returns the subject filters that match every message about
// customerID, by stream: every customer subject ends with the customer's
// token (events.SubjectToken), a dead-lettered copy behind
// dlq.<consumer>. See README "What is erased where".
func purgeFilters(customerID string) []streamFilter {
	token := events.SubjectToken(customerID)
	return []streamFilter{
		{events.StreamOrders, "orders.*." + token},
		{events.StreamInventory, "inventory.*." + token},
		{events.StreamDLQ, "dlq.*.*.*." + token},
	}
}

// dlqGDPRFilter matches the dead-lettered copies of GDPR messages, whose
// subjects do not name the customer: their payload does.
const dlqGDPRFilter = "dlq.*.gdpr.>"

// purgeResult is what a purge did: by stream, the last sequence it
// examined (the bound a participant's consumers must have settled for the
// verification) and how many messages it removed.
type purgeResult struct {
	Bounds  map[string]uint64 `json:"bounds"`
	Removed map[string]int64  `json:"removed"`
}

// purger removes a customer's messages from the streams.
type purger struct {
	js jetstream.JetStream
}

// purge removes from ORDERS, INVENTORY and DLQ every message about
// customerID's orders placed up to before (the erasure's cut-off: the
// body's placed_at, or none), each stream within purgeTimeout, and from
// the DLQ every dead-lettered GDPR message naming the customer. It reads
// the customer's messages up to the stream's last sequence, purges by
// subject filter up to (not including) the first message about a newer
// order (JetStream purge with filter and sequence), and deletes the older
// ones after it one by one, so that an order placed after the erasure
// keeps its events. Purging is idempotent. It stops at the first stream
// that fails and returns its error; the streams before it stay purged.
func (p *purger) purge(ctx context.Context, customerID string, before time.Time) (purgeResult, error) {
	res := purgeResult{Bounds: map[string]uint64{}, Removed: map[string]int64{}}
	for _, f := range purgeFilters(customerID) {
		bound, removed, err := p.purgeStream(ctx, f, func(data []byte) bool { return aboutBefore(data, before) })
		if err != nil {
			return purgeResult{}, err
		}
		res.Bounds[f.Stream], res.Removed[f.Stream] = bound, removed
	}
	_, removed, err := p.purgeStream(ctx, streamFilter{events.StreamDLQ, dlqGDPRFilter},
		func(data []byte) bool { return namesCustomer(data, customerID) })
	if err != nil {
		return purgeResult{}, err
	}
	res.Removed[events.StreamDLQ] += removed
	return res, nil
}

// purgeStream removes the messages of f for which erase is true, up to the
// stream's last sequence, which it returns with how many it removed.
func (p *purger) purgeStream(ctx context.Context, f streamFilter, erase func([]byte) bool) (uint64, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, purgeTimeout)
	defer cancel()
	s, err := p.js.Stream(ctx, f.Stream)
	if err != nil {
		return 0, 0, fmt.Errorf("purge %s: %w", f.Stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("purge %s: %w", f.Stream, err)
	}
	last := info.State.LastSeq
	var (
		firstKept uint64   // the first message to keep; 0: none
		before    int64    // messages to remove before firstKept
		after     []uint64 // messages to remove after it
	)
	for seq := max(info.State.FirstSeq, 1); seq <= last; {
		m, err := s.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(f.Filter))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		}
		if err != nil {
			return 0, 0, fmt.Errorf("purge %s: read the customer's messages: %w", f.Stream, err)
		}
		if m.Sequence > last {
			break
		}
		switch {
		case !erase(m.Data) && firstKept == 0:
			firstKept = m.Sequence
		case erase(m.Data) && firstKept == 0:
			before++
		case erase(m.Data):
			after = append(after, m.Sequence)
		}
		seq = m.Sequence + 1
	}
	upTo := last + 1
	if firstKept > 0 {
		upTo = firstKept
	}
	if before > 0 {
		if err := s.Purge(ctx, jetstream.WithPurgeSubject(f.Filter), jetstream.WithPurgeSequence(upTo)); err != nil {
			return 0, 0, fmt.Errorf("purge %s of a customer's subjects: %w", f.Stream, err)
		}
	}
	for _, seq := range after {
		if err := s.DeleteMsg(ctx, seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return 0, 0, fmt.Errorf("purge %s: delete message %d: %w", f.Stream, seq, err)
		}
	}
	return last, before + int64(len(after)), nil
}

// aboutBefore reports whether a message body is about an order placed up
// to before: its placed_at, when it has one, is not after before. A body
// without one (or not JSON) counts as before: it cannot be told apart.
func aboutBefore(data []byte, before time.Time) bool {
	var body struct {
		PlacedAt time.Time `json:"placed_at"`
	}
	if err := json.Unmarshal(data, &body); err != nil || body.PlacedAt.IsZero() {
		return true
	}
	return !body.PlacedAt.After(before)
}

// namesCustomer reports whether a GDPR message body names customerID.
func namesCustomer(data []byte, customerID string) bool {
	var body struct {
		CustomerID string `json:"customer_id"`
	}
	return json.Unmarshal(data, &body) == nil && body.CustomerID == customerID
}
