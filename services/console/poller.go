package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/dlq"
	"github.com/orderbus/orderbus/pkg/events"
)

// The durables whose ack floor on ORDERS marks an order's receipt and SMS
// as sent: the email and sms services' consumers of orders.placed.
const (
	durableEmail = "email"
	durableSMS   = "sms"
)

// consumerView is one durable consumer as JetStream reports it.
type consumerView struct {
	Stream string `json:"stream"`
	Name   string `json:"name"`
	// Pending is messages not yet delivered (num_pending); AckPending
	// delivered and not acknowledged (num_ack_pending); Redelivered those
	// delivered more than once and still unacknowledged (num_redelivered).
	Pending     uint64 `json:"pending"`
	AckPending  int    `json:"ack_pending"`
	Redelivered int    `json:"redelivered"`
	// Waiting is the pull requests waiting: 0 while no instance fetches.
	Waiting  int    `json:"waiting"`
	AckFloor uint64 `json:"ack_floor"`
	// Paused is JetStream's pause, or the service's own (its breaker,
	// orderbus_consumer_paused) when a dependency keeps failing.
	Paused bool `json:"paused"`
}

// status is what the poller last read; its methods are safe for
// concurrent use.
type status struct {
	mu          sync.Mutex
	consumers   []consumerView
	services    []serviceView
	deadLetters []dlq.Entry // newest first, at most the configured number
	dlqCount    uint64
	errors      []string
}

// poller reads, every interval, the durable consumers, the DLQ and the
// services' metrics, and derives the receipt and SMS steps.
type poller struct {
	js       jetstream.JetStream
	logger   *slog.Logger
	client   *http.Client
	services [][2]string
	maxDead  int
	journeys *journeys
	status   *status
	hub      *hub

	dlqSeen  [2]uint64 // the DLQ's last sequence and size at the last listing
	dlqByOrd map[string]map[uint64]bool
}

// run polls every interval until ctx ends.
func (p *poller) run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		p.poll(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (p *poller) poll(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var errs []string
	services := make([]serviceView, len(p.services))
	var wg sync.WaitGroup
	for i, s := range p.services {
		wg.Go(func() { services[i] = scrape(ctx, p.client, s[0], s[1]) })
	}
	consumers, err := p.consumers(ctx)
	if err != nil {
		errs = append(errs, err.Error())
	}
	dead, count, err := p.deadLetters(ctx)
	if err != nil {
		errs = append(errs, err.Error())
	}
	wg.Wait()

	paused := map[string]bool{}
	for _, s := range services {
		for _, d := range s.Paused {
			paused[d] = true
		}
	}
	for i := range consumers {
		consumers[i].Paused = consumers[i].Paused || paused[consumers[i].Name]
	}

	handled := func(durable string) handledBy {
		for _, c := range consumers {
			if c.Stream == events.StreamOrders && c.Name == durable {
				return handledBy{ackFloor: c.AckFloor, deadLettered: p.dlqByOrd[durable], exists: true}
			}
		}
		return handledBy{}
	}
	changed := p.journeys.sideEffects(handled(durableEmail), handled(durableSMS), time.Now())

	p.status.mu.Lock()
	before, _ := json.Marshal([]any{p.status.consumers, p.status.services, p.status.deadLetters, p.status.dlqCount, p.status.errors})
	p.status.consumers, p.status.services, p.status.errors = consumers, services, errs
	if err == nil {
		p.status.deadLetters, p.status.dlqCount = dead, count
	}
	after, _ := json.Marshal([]any{p.status.consumers, p.status.services, p.status.deadLetters, p.status.dlqCount, p.status.errors})
	p.status.mu.Unlock()
	if changed || string(before) != string(after) {
		p.hub.changed()
	}
}

// consumers lists the durable consumers of the event streams; ordered and
// other ephemeral consumers (the console's own among them) are left out.
func (p *poller) consumers(ctx context.Context) ([]consumerView, error) {
	var out []consumerView
	var errs []error
	for _, name := range []string{events.StreamOrders, events.StreamInventory, events.StreamGDPR} {
		s, err := p.js.Stream(ctx, name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		l := s.ListConsumers(ctx)
		for ci := range l.Info() {
			if ci.Config.Durable == "" {
				continue
			}
			out = append(out, consumerView{
				Stream: name, Name: ci.Name,
				Pending: ci.NumPending, AckPending: ci.NumAckPending, Redelivered: ci.NumRedelivered,
				Waiting: ci.NumWaiting, AckFloor: ci.AckFloor.Stream, Paused: ci.Paused,
			})
		}
		if err := l.Err(); err != nil {
			errs = append(errs, err)
		}
	}
	slices.SortFunc(out, func(a, b consumerView) int {
		if a.Stream != b.Stream {
			return compare(a.Stream, b.Stream)
		}
		return compare(a.Name, b.Name)
	})
	return out, errors.Join(errs...)
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// deadLetters lists the DLQ again when it changed since the last listing
// (its last sequence or size), and returns the newest maxDead entries and
// the number of dead letters; nil entries mean unchanged.
func (p *poller) deadLetters(ctx context.Context) ([]dlq.Entry, uint64, error) {
	s, err := p.js.Stream(ctx, events.StreamDLQ)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return []dlq.Entry{}, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	st := s.CachedInfo().State
	seen := [2]uint64{st.LastSeq, st.Msgs}
	if seen == p.dlqSeen && p.dlqByOrd != nil {
		p.status.mu.Lock()
		defer p.status.mu.Unlock()
		return p.status.deadLetters, p.status.dlqCount, nil
	}
	d, err := dlq.Open(ctx, p.js)
	if err != nil {
		return nil, 0, err
	}
	all, err := d.List(ctx, dlq.Filter{})
	if err != nil {
		return nil, 0, err
	}
	byOrd := map[string]map[uint64]bool{}
	for _, e := range all {
		if e.Stream == events.StreamOrders {
			if byOrd[e.Consumer] == nil {
				byOrd[e.Consumer] = map[uint64]bool{}
			}
			byOrd[e.Consumer][e.StreamSeq] = true
		}
	}
	p.dlqSeen, p.dlqByOrd = seen, byOrd
	slices.Reverse(all)
	return all[:min(len(all), p.maxDead)], uint64(len(all)), nil
}
