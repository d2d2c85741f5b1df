package natsjs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
)

// Headers the runner adds to a dead-lettered copy.
const (
	// HeaderError is why the consumer gave up: the error text on one line,
	// at most maxErrorHeader bytes.
	HeaderError = "Orderbus-Error"
	// HeaderReason is permanent (the handler's verdict) or malformed (the
	// message is not a valid event, or a JetStream delivery).
	HeaderReason = "Orderbus-Reason"
	// HeaderStream is the stream the message came from.
	HeaderStream = "Orderbus-Stream"
	// HeaderConsumer is the durable that gave up.
	HeaderConsumer = "Orderbus-Consumer"
	// HeaderStreamSeq is the message's sequence in its stream, in decimal.
	HeaderStreamSeq = "Orderbus-Stream-Seq"
	// HeaderDeliveries is how many times it was delivered, in decimal.
	HeaderDeliveries = "Orderbus-Deliveries"
	// HeaderRedriveFor, on a message republished from the DLQ to its
	// original subject, names the one durable that is to handle it again.
	// Every other consumer's runner acknowledges it without calling its
	// handler, so a redrive repeats no other consumer's effect.
	HeaderRedriveFor = "Orderbus-Redrive-For"
	// HeaderRedriveOf, on a redriven message, is the DLQ stream sequence
	// of the dead letter it replays, in decimal.
	HeaderRedriveOf = "Orderbus-Redrive-Of"
	// HeaderTruncated is "true" on a dead-lettered copy stored without
	// the original body because the copy (body, original headers and
	// these ones) would exceed the server's max_payload.
	HeaderTruncated = "Orderbus-Truncated"
	// HeaderOriginalSize is the original body's size in bytes, in decimal,
	// on a truncated copy.
	HeaderOriginalSize = "Orderbus-Original-Size"
)

// DeadLetterGuard decides whether a message a consumer gives up on may be
// copied to the DLQ. pkg/erasure's Guard is one: a copy would keep an
// erased customer's data for the DLQ's whole retention.
type DeadLetterGuard interface {
	// SuppressDeadLetter reports whether the copy of the message on
	// subject with body data must not be stored; the runner then
	// terminates the message without a copy. An error makes the runner
	// NAK the message and ask again on its redelivery.
	SuppressDeadLetter(ctx context.Context, subject string, data []byte) (bool, error)
}

const (
	maxErrorHeader = 1024
	dlqTimeout     = 5 * time.Second
)

// deadLetter stores a copy of msg on dlq.<durable>.<subject> in the DLQ
// stream: the original body and headers, except Nats-* ones (JetStream
// would act on them), plus the Orderbus-* headers. Its Nats-Msg-Id is
// dlq:<durable>:<stream>:<seq>, so dead-lettering the same message again
// (a lost Term) stores it once, while other consumers giving up on the
// same event each get their copy. When the copy would exceed the server's
// max_payload (the added headers can tip a large message over it), it is
// stored without the body, marked with HeaderTruncated, rather than never.
func (c *Consumer) deadLetter(msg jetstream.Msg, meta *jetstream.MsgMetadata, reason string, cause error) error {
	h := nats.Header{}
	for k, v := range msg.Headers() {
		if !strings.HasPrefix(strings.ToLower(k), "nats-") {
			h[k] = slices.Clone(v)
		}
	}
	h.Set(HeaderError, oneLine(cause.Error(), maxErrorHeader))
	h.Set(HeaderReason, reason)
	h.Set(HeaderStream, meta.Stream)
	h.Set(HeaderConsumer, c.cfg.Durable)
	h.Set(HeaderStreamSeq, strconv.FormatUint(meta.Sequence.Stream, 10))
	h.Set(HeaderDeliveries, strconv.FormatUint(meta.NumDelivered, 10))
	out := &nats.Msg{Subject: events.DLQSubject(c.cfg.Durable, msg.Subject()), Header: h, Data: msg.Data()}

	opts := []jetstream.PublishOpt{jetstream.WithExpectStream(events.StreamDLQ)}
	if meta.Sequence.Stream > 0 {
		opts = append(opts, jetstream.WithMsgID(fmt.Sprintf("dlq:%s:%s:%d", c.cfg.Durable, meta.Stream, meta.Sequence.Stream)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), dlqTimeout)
	defer cancel()
	_, err := c.js.PublishMsg(ctx, out, opts...)
	if errors.Is(err, nats.ErrMaxPayload) {
		h.Set(HeaderTruncated, "true")
		h.Set(HeaderOriginalSize, strconv.Itoa(len(out.Data)))
		out.Data = nil
		_, err = c.js.PublishMsg(ctx, out, opts...)
	}
	if err != nil {
		return fmt.Errorf("dead-letter to %s: %w", out.Subject, err)
	}
	return nil
}

// oneLine makes s a valid header value: control characters become spaces
// and it is cut to at most limit bytes on a rune boundary.
func oneLine(s string, limit int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
