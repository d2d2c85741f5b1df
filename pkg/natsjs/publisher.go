package natsjs

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
)

// Publisher publishes events to JetStream and waits for the PubAck, so a
// nil error means the event is stored. It is safe for concurrent use.
type Publisher struct {
	js jetstream.JetStream
}

// NewPublisher returns a Publisher on js.
func NewPublisher(js jetstream.JetStream) *Publisher {
	return &Publisher{js: js}
}

// Publish publishes ev on subject with ev.Header() as headers and ev.Data
// as body. Nats-Msg-Id is the event id, so publishing the same event again
// within the stream's duplicate window stores it once; that retry is safe
// and returns nil. It waits for the PubAck until ctx is done (JetStream's
// default timeout, 5s, when ctx has no deadline) and returns an error when
// no stream stored the event: no stream for subject, JetStream down, or
// timeout. After an error the event may still have been stored; retrying
// is the remedy.
func (p *Publisher) Publish(ctx context.Context, subject string, ev events.Event) error {
	msg := &nats.Msg{Subject: subject, Header: ev.Header(), Data: ev.Data}
	if _, err := p.js.PublishMsg(ctx, msg, jetstream.WithMsgID(ev.ID)); err != nil {
		return fmt.Errorf("publish %s %s to %s: %w", ev.Type, ev.ID, subject, err)
	}
	return nil
}

// PublishAsync sends ev on subject as Publish does, without waiting for
// the PubAck: Wait on the returned Pending. Events sent one after another
// on one connection reach the stream in the order sent, so a caller can
// send a whole batch and then wait for each (one round trip, not one per
// event). It returns an error when the event could not be sent (the
// connection is closed, or too many publishes wait for their PubAcks).
func (p *Publisher) PublishAsync(subject string, ev events.Event) (*Pending, error) {
	msg := &nats.Msg{Subject: subject, Header: ev.Header(), Data: ev.Data}
	f, err := p.js.PublishMsgAsync(msg, jetstream.WithMsgID(ev.ID))
	if err != nil {
		return nil, fmt.Errorf("publish %s %s to %s: %w", ev.Type, ev.ID, subject, err)
	}
	return &Pending{future: f, subject: subject, ev: ev}, nil
}

// Pending is an event sent by PublishAsync whose PubAck may still come.
type Pending struct {
	future  jetstream.PubAckFuture
	subject string
	ev      events.Event
}

// Wait waits for the PubAck until ctx is done and returns nil when the
// stream stored the event, or the error of Publish: no stream for the
// subject, JetStream down, or timeout. After an error the event may still
// have been stored; publishing it again is the remedy.
func (f *Pending) Wait(ctx context.Context) error {
	var err error
	select {
	case <-f.future.Ok():
		return nil
	case err = <-f.future.Err():
	case <-ctx.Done():
		err = ctx.Err()
	}
	return fmt.Errorf("publish %s %s to %s: %w", f.ev.Type, f.ev.ID, f.subject, err)
}

// Status returns the state of the NATS connection the publisher uses.
func (p *Publisher) Status() nats.Status {
	return p.js.Conn().Status()
}
