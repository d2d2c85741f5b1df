package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
)

// watched lists what the console reads from each stream, with ordered
// consumers: ephemeral, unacknowledged, in memory, recreated by the client
// when they fall behind, so they hold no message back from anyone and
// leave nothing behind when the console stops. Which event means which
// step of a journey:
//
//	orders.placed.<customer>        placed (its ORDERS sequence is kept)
//	inventory.reserved.<customer>   stock reserved
//	inventory.rejected.<customer>   stock rejected
//	orders.confirmed.<customer>     confirmed
//	orders.rejected.<customer>      rejected
//	gdpr.erasure.requested          an erasure opens (its customer's journeys are dropped)
//	gdpr.erasure.completed.<svc>    a participant answered
//
// The receipt and the SMS are not events: see poller.sideEffects.
func watched() []watch {
	return []watch{
		{stream: events.StreamOrders, filters: []string{
			events.FilterOrderPlaced, events.FilterOrderConfirmed, events.FilterOrderRejected}},
		{stream: events.StreamInventory, filters: []string{events.FilterInventory}},
		{stream: events.StreamGDPR, filters: []string{
			events.FilterErasureRequested, events.FilterErasureCompleted}},
	}
}

// watch is one ordered consumer: a stream and its subject filters.
type watch struct {
	stream  string
	filters []string
}

// watcher feeds the events of the watched streams to the journeys and the
// erasures, and tells the hub.
type watcher struct {
	js       jetstream.JetStream
	logger   *slog.Logger
	journeys *journeys
	erasures *erasures
	hub      *hub
	// replay is how many of a stream's last messages are read at start,
	// so the page shows the recent past at once.
	replay uint64
	// retry is how long to wait before watching a stream again that is
	// missing (no service created it yet) or failed.
	retry time.Duration
}

// run watches w until ctx ends, coming back after every failure.
func (wr *watcher) run(ctx context.Context, w watch) error {
	for {
		err := wr.consume(ctx, w)
		if ctx.Err() != nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			wr.logger.Warn("watching a stream failed; watching again", "stream", w.stream, "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wr.retry):
		}
	}
}

// consume reads w's events through one ordered consumer until ctx ends
// or it fails.
func (wr *watcher) consume(ctx context.Context, w watch) error {
	s, err := wr.js.Stream(ctx, w.stream)
	if err != nil {
		return fmt.Errorf("stream %s: %w", w.stream, err)
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: w.filters}
	if last := s.CachedInfo().State.LastSeq; last > wr.replay {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, last-wr.replay+1
	}
	cons, err := s.OrderedConsumer(ctx, cfg)
	if err != nil {
		return fmt.Errorf("ordered consumer on %s: %w", w.stream, err)
	}
	msgs, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("consume %s: %w", w.stream, err)
	}
	stop := context.AfterFunc(ctx, msgs.Stop)
	defer stop()
	defer msgs.Stop()
	for {
		msg, err := msgs.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return ctx.Err()
			}
			return fmt.Errorf("consume %s: %w", w.stream, err)
		}
		wr.apply(msg)
	}
}

// apply records one event. An event the console cannot read is skipped:
// the consumers dead-letter it, and the console shows the dead letter.
func (wr *watcher) apply(msg jetstream.Msg) {
	meta, err := msg.Metadata()
	if err != nil {
		return
	}
	ev, err := events.Parse(msg.Headers(), msg.Data())
	if err != nil {
		wr.logger.Debug("unreadable event skipped", "subject", msg.Subject(), "error", err)
		return
	}
	at := ev.Time
	if at.IsZero() {
		at = meta.Timestamp
	}
	switch ev.Type {
	case events.TypeOrderPlaced:
		var p events.OrderPlaced
		if ev.Decode(&p) == nil && p.OrderID != "" {
			wr.journeys.placed(meta.Sequence.Stream, at, p.OrderID, p.Customer.ID, len(p.Items))
		}
	case events.TypeInventoryReserved, events.TypeInventoryRejected:
		var p events.InventoryRejected // InventoryReserved's fields and more
		if ev.Decode(&p) == nil && p.OrderID != "" {
			r := resultReserved
			if ev.Type == events.TypeInventoryRejected {
				r = resultRejected
			}
			wr.journeys.stock(p.OrderID, p.CustomerID, r, at)
		}
	case events.TypeOrderConfirmed:
		var p events.OrderConfirmed
		if ev.Decode(&p) == nil && p.OrderID != "" {
			wr.journeys.outcome(p.OrderID, p.CustomerID, resultConfirmed, at)
		}
	case events.TypeOrderRejected:
		var p events.OrderRejected
		if ev.Decode(&p) == nil && p.OrderID != "" {
			wr.journeys.outcome(p.OrderID, p.Customer.ID, resultRejected, at)
		}
	case events.TypeErasureRequested:
		var p events.ErasureRequested
		if ev.Decode(&p) == nil && p.ErasureID != "" {
			wr.erasures.requested(p.ErasureID, at)
			wr.journeys.forgetCustomer(p.CustomerID)
		}
	case events.TypeErasureCompleted:
		var p events.ErasureCompleted
		if ev.Decode(&p) == nil && p.ErasureID != "" {
			wr.erasures.answered(p.ErasureID, p.Service, at)
		}
	default:
		return
	}
	wr.hub.changed()
}
