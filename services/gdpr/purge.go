package main

import (
	"context"
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

// purger removes a customer's messages from the streams.
type purger struct {
	js jetstream.JetStream
}

// purge purges every message whose subject ends with customerID's token
// from ORDERS, INVENTORY and DLQ (see purgeFilters), each stream within
// purgeTimeout. Purging is idempotent: purging again removes what has been
// stored since, or nothing. It stops at the first stream that fails and
// returns its error; the streams before it stay purged.
func (p *purger) purge(ctx context.Context, customerID string) error {
	for _, f := range purgeFilters(customerID) {
		if err := p.purgeStream(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

func (p *purger) purgeStream(ctx context.Context, f streamFilter) error {
	ctx, cancel := context.WithTimeout(ctx, purgeTimeout)
	defer cancel()
	s, err := p.js.Stream(ctx, f.Stream)
	if err != nil {
		return fmt.Errorf("purge %s: %w", f.Stream, err)
	}
	if err := s.Purge(ctx, jetstream.WithPurgeSubject(f.Filter)); err != nil {
		return fmt.Errorf("purge %s of a customer's subjects: %w", f.Stream, err)
	}
	return nil
}
