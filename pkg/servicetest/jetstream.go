package servicetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
)

// requestTimeout bounds each JetStream request of these helpers.
const requestTimeout = 5 * time.Second

// Publish stores msg as is in its stream and returns its stream sequence.
// A message JetStream drops as a duplicate (its Nats-Msg-Id seen within
// the duplicate window) is an error, since a test that publishes it wants
// it stored. It is safe in any goroutine.
func Publish(js jetstream.JetStream, msg *nats.Msg) (uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	ack, err := js.PublishMsg(ctx, msg)
	if err != nil {
		return 0, fmt.Errorf("publish on %s: %w", msg.Subject, err)
	}
	if ack.Duplicate {
		return 0, fmt.Errorf("message on %s was dropped as a duplicate", msg.Subject)
	}
	return ack.Sequence, nil
}

// MustPublish is Publish failing the test on error.
func MustPublish(tb testing.TB, js jetstream.JetStream, msg *nats.Msg) uint64 {
	tb.Helper()
	seq, err := Publish(js, msg)
	if err != nil {
		tb.Fatal(err)
	}
	return seq
}

// ConsumerInfo returns the state of the durable consumer on stream, for
// wait conditions; an error when it cannot be read (not created yet, or
// JetStream unreachable).
func ConsumerInfo(js jetstream.JetStream, stream, durable string) (*jetstream.ConsumerInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	cons, err := js.Consumer(ctx, stream, durable)
	if err != nil {
		return nil, fmt.Errorf("consumer %s on %s: %w", durable, stream, err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("consumer %s on %s: %w", durable, stream, err)
	}
	return info, nil
}

// Settled is a WaitFor condition: it reports whether the durable consumer
// on stream has acknowledged (or terminated) every message up to stream
// sequence seq and holds none, pending or unacknowledged, and describes
// what it saw.
func Settled(js jetstream.JetStream, stream, durable string, seq uint64) (bool, string) {
	info, err := ConsumerInfo(js, stream, durable)
	if err != nil {
		return false, err.Error()
	}
	ok := info.AckFloor.Stream >= seq && info.NumAckPending == 0 && info.NumPending == 0
	return ok, fmt.Sprintf("ack floor %d (want %d), ack pending %d, pending %d",
		info.AckFloor.Stream, seq, info.NumAckPending, info.NumPending)
}

// StreamMsgs returns the messages stream holds on subject (no wildcards),
// oldest first, failing the test when the stream cannot be read.
func StreamMsgs(tb testing.TB, js jetstream.JetStream, stream, subject string) []*jetstream.RawStreamMsg {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		tb.Fatalf("stream %s: %v", stream, err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		tb.Fatalf("stream %s info: %v", stream, err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; info.State.Subjects[subject] > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil || m.Subject != subject {
			continue // deleted, or another subject
		}
		out = append(out, m)
	}
	return out
}

// DeadLetters returns the copies the durable consumer dead-lettered of
// messages on subject, oldest first (see events.DLQSubject).
func DeadLetters(tb testing.TB, js jetstream.JetStream, durable, subject string) []*jetstream.RawStreamMsg {
	tb.Helper()
	return StreamMsgs(tb, js, events.StreamDLQ, events.DLQSubject(durable, subject))
}

// LastSeq returns the last sequence of stream, failing the test when the
// stream cannot be read.
func LastSeq(tb testing.TB, js jetstream.JetStream, stream string) uint64 {
	tb.Helper()
	return streamState(tb, js, stream).LastSeq
}

// StreamLen returns how many messages stream holds, failing the test when
// the stream cannot be read.
func StreamLen(tb testing.TB, js jetstream.JetStream, stream string) uint64 {
	tb.Helper()
	return streamState(tb, js, stream).Msgs
}

// streamState returns stream's state, failing the test when it cannot be read.
func streamState(tb testing.TB, js jetstream.JetStream, stream string) jetstream.StreamState {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		tb.Fatalf("stream %s: %v", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		tb.Fatalf("stream %s info: %v", stream, err)
	}
	return info.State
}
