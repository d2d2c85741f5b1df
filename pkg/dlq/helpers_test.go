package dlq_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/dlq"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
)

// Personal data in every test order; no listing may show it.
const (
	customerName  = "Ada Lovelace"
	customerEmail = "ada@example.com"
	customerPhone = "+15551234567"
)

// mustOpen starts a nats-server with the orderbus streams and opens its DLQ.
func mustOpen(t *testing.T) (jetstream.JetStream, *dlq.DLQ) {
	t.Helper()
	_, js := natstest.Connect(t, natstest.Start(t))
	q, err := dlq.Open(t.Context(), js)
	if err != nil {
		t.Fatal(err)
	}
	return js, q
}

// original is an event as it was stored in its stream.
type original struct {
	msg   *nats.Msg
	event events.Event
	seq   uint64
}

// mustPlace publishes an order placed event for customer to ORDERS, as the
// order service does.
func mustPlace(t *testing.T, js jetstream.JetStream, customer, orderID string) original {
	t.Helper()
	e, err := events.New("orderbus/order", events.TypeOrderPlaced, orderID, events.OrderPlaced{
		OrderID:  orderID,
		Customer: events.Customer{ID: customer, Name: customerName, Email: customerEmail, Phone: customerPhone},
		Items:    []events.Item{{SKU: "SKU-1", Quantity: 1}},
		PlacedAt: time.Now().UTC(),
	})
	if err != nil {
		t.Fatal(err)
	}
	msg := &nats.Msg{Subject: events.OrderPlacedSubject(customer), Header: e.Header(), Data: e.Data}
	ack, err := js.PublishMsg(t.Context(), msg)
	if err != nil {
		t.Fatalf("publish %s: %v", msg.Subject, err)
	}
	return original{msg: msg, event: e, seq: ack.Sequence}
}

// mustDeadLetter stores o's DLQ copy for durable as natsjs's runner does
// (pkg/natsjs/dlq.go) and returns its DLQ sequence.
func mustDeadLetter(t *testing.T, js jetstream.JetStream, durable string, o original, reason, cause string) uint64 {
	t.Helper()
	return storeDeadLetter(t, js, durable, o, reason, cause, false)
}

// mustDeadLetterTruncated stores o's DLQ copy without its body, as the
// runner does when the copy would exceed max_payload.
func mustDeadLetterTruncated(t *testing.T, js jetstream.JetStream, durable string, o original) uint64 {
	t.Helper()
	return storeDeadLetter(t, js, durable, o, "permanent", "too big", true)
}

func storeDeadLetter(t *testing.T, js jetstream.JetStream, durable string, o original, reason, cause string, truncated bool) uint64 {
	t.Helper()
	h := nats.Header{}
	for k, v := range o.msg.Header {
		if !strings.HasPrefix(strings.ToLower(k), "nats-") {
			h[k] = v
		}
	}
	h.Set(natsjs.HeaderError, cause)
	h.Set(natsjs.HeaderReason, reason)
	h.Set(natsjs.HeaderStream, events.StreamOrders)
	h.Set(natsjs.HeaderConsumer, durable)
	h.Set(natsjs.HeaderStreamSeq, strconv.FormatUint(o.seq, 10))
	h.Set(natsjs.HeaderDeliveries, "1")
	data := o.msg.Data
	if truncated {
		h.Set(natsjs.HeaderTruncated, "true")
		h.Set(natsjs.HeaderOriginalSize, strconv.Itoa(len(data)))
		data = nil
	}
	ack, err := js.PublishMsg(t.Context(),
		&nats.Msg{Subject: events.DLQSubject(durable, o.msg.Subject), Header: h, Data: data},
		jetstream.WithMsgID(fmt.Sprintf("dlq:%s:%s:%d", durable, events.StreamOrders, o.seq)),
		jetstream.WithExpectStream(events.StreamDLQ))
	if err != nil {
		t.Fatalf("dead-letter: %v", err)
	}
	return ack.Sequence
}

// mustDurable creates a durable on ORDERS for orders.placed.> that starts
// with new messages, as the services' consumers do.
func mustDurable(t *testing.T, js jetstream.JetStream, name string) jetstream.Consumer {
	t.Helper()
	c, err := js.CreateOrUpdateConsumer(t.Context(), events.StreamOrders, jetstream.ConsumerConfig{
		Durable:       name,
		FilterSubject: events.FilterOrderPlaced,
		DeliverPolicy: jetstream.DeliverNewPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       time.Minute,
		MaxDeliver:    -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mustNext fetches the durable's next message without acknowledging it.
func mustNext(t *testing.T, c jetstream.Consumer) jetstream.Msg {
	t.Helper()
	msg, err := c.Next(jetstream.FetchMaxWait(20 * time.Second))
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	return msg
}

// seqs returns the entries' DLQ sequences.
func seqs(entries []dlq.Entry) []uint64 {
	out := make([]uint64, len(entries))
	for i, e := range entries {
		out[i] = e.Seq
	}
	return out
}

// mustList lists with the filter given as text.
func mustList(t *testing.T, q *dlq.DLQ, filter string) []dlq.Entry {
	t.Helper()
	entries, err := q.List(t.Context(), dlq.MustParseFilter(filter))
	if err != nil {
		t.Fatalf("list %q: %v", filter, err)
	}
	return entries
}

// withTimeout is t.Context() bounded to d.
func withTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}
