package dlq

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
)

// Entry is one dead letter as listed: what an operator needs to decide on
// it, and no personal data (no body; the subject's last token is a
// customer id).
type Entry struct {
	// Seq is the dead letter's sequence in the DLQ stream: its handle for
	// Show, Redrive and Purge.
	Seq uint64 `json:"seq"`
	// Time is when the DLQ stored it.
	Time time.Time `json:"time"`
	// Consumer is the durable that gave up (Orderbus-Consumer).
	Consumer string `json:"consumer"`
	// Reason is the runner's reason (Orderbus-Reason): permanent or
	// malformed (exhausted on dead letters of older versions).
	Reason string `json:"reason"`
	// Error is the error text (Orderbus-Error).
	Error string `json:"error"`
	// Type and ID are the CloudEvents type and id (ce-type, ce-id); either
	// may be empty for a malformed event.
	Type string `json:"type"`
	ID   string `json:"id"`
	// OrderID is the payload's order_id, or "" when it has none.
	OrderID string `json:"order_id,omitempty"`
	// Subject, Stream and StreamSeq locate the original message.
	Subject   string `json:"subject"`
	Stream    string `json:"stream"`
	StreamSeq uint64 `json:"stream_seq"`
	// Deliveries is how many times the consumer had received it.
	Deliveries uint64 `json:"deliveries"`
	// Truncated means the DLQ holds the dead letter without its body
	// (Orderbus-Truncated: it would have exceeded max_payload); a redrive
	// takes the body from the original stream.
	Truncated bool `json:"truncated,omitempty"`
}

// Message is one dead letter in full, as Show returns it: its Entry, its
// headers and its body. The body may hold personal data.
type Message struct {
	Entry
	// Header holds every stored header, Orderbus-* included.
	Header nats.Header `json:"header"`
	// Data is the original body.
	Data []byte `json:"data"`
}

// newEntry reads an Entry from a stored DLQ message.
func newEntry(seq uint64, stored time.Time, subject string, h nats.Header, data []byte) Entry {
	e := Entry{
		Seq:       seq,
		Time:      stored,
		Consumer:  header(h, natsjs.HeaderConsumer),
		Reason:    header(h, natsjs.HeaderReason),
		Error:     header(h, natsjs.HeaderError),
		Type:      header(h, events.HeaderType),
		ID:        header(h, events.HeaderID),
		Stream:    header(h, natsjs.HeaderStream),
		OrderID:   orderID(data),
		Truncated: header(h, natsjs.HeaderTruncated) == "true",
	}
	e.StreamSeq, _ = strconv.ParseUint(header(h, natsjs.HeaderStreamSeq), 10, 64)
	e.Deliveries, _ = strconv.ParseUint(header(h, natsjs.HeaderDeliveries), 10, 64)
	token, original := splitDLQSubject(subject)
	e.Subject = original
	if e.Consumer == "" {
		e.Consumer = token
	}
	return e
}

// splitDLQSubject splits dlq.<consumer>.<original> into the consumer token
// and the original subject; both are "" when subject is not of that form.
func splitDLQSubject(subject string) (consumer, original string) {
	rest, ok := strings.CutPrefix(subject, "dlq.")
	if !ok {
		return "", ""
	}
	consumer, original, ok = strings.Cut(rest, ".")
	if !ok || consumer == "" || original == "" {
		return "", ""
	}
	return consumer, original
}

// orderID returns the payload's top-level order_id, or "" when the body is
// not a JSON object with a string order_id. Only that field is decoded.
func orderID(data []byte) string {
	var p struct {
		OrderID string `json:"order_id"`
	}
	if json.Unmarshal(data, &p) != nil {
		return ""
	}
	return p.OrderID
}

// header returns h's value for key, matched exactly, then
// case-insensitively.
func header(h nats.Header, key string) string {
	if v := h.Get(key); v != "" {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, key) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}
