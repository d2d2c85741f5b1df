// Package erasure makes a service a participant in GDPR erasure: it
// consumes gdpr.erasure.requested on the durable "<service>-erasure",
// records a tombstone (the customer and the erasure's cut-off, its request
// time), erases the customer's personal data about orders placed up to the
// cut-off with the service's own Eraser, and answers
// gdpr.erasure.completed.<service> with the counts — all in one
// transaction with the inbox record and the outbox row, so an erasure is
// done and answered exactly once per request however often it is
// delivered, and a service that is down when it is requested does it when
// it is back.
//
// The tombstone keeps the data erased: every effect of the service takes
// the customer's erasure lock and checks the tombstone in its own
// transaction (Guard.Check), so an event about an order placed before the
// cut-off that is still in flight is acknowledged without writing anything
// personal, while an order placed after it is processed normally. Once the
// gdpr service has purged the streams it asks for a verification
// (gdpr.erasure.verify): the participant checks that nothing personal from
// before the cut-off is left and that its consumers have settled every
// message up to the purge, and answers gdpr.erasure.verified.<service>.
package erasure

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/inbox"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/pgdb"
)

// Eraser deletes, in tx, everything the service holds about the
// customer's orders placed up to before (the erasure's cut-off; records
// that do not say when their order was placed count as before it), or
// strips of its personal fields what must stay (such as a stock
// reservation, kept for accounting), and returns how many records of each
// kind it erased ("orders": 3, ...). Records of orders placed after before
// are a new order's and stay. It must be idempotent: a later request for
// the same customer erases what has arrived since, and reports zero for
// what is already gone; the verification calls it again and expects
// zeros. Returning an error rolls the erasure back and retries it.
type Eraser func(ctx context.Context, tx pgx.Tx, customerID string, before time.Time) (map[string]int64, error)

// Consumer names one of the service's durable consumers whose in-flight
// messages the verification checks (those on ORDERS and INVENTORY).
type Consumer struct {
	Stream, Durable string
}

// Participant is one service's part in erasures.
type Participant struct {
	// Service is the service's name, as the gdpr service lists it among
	// the participants ("order", "email", ...).
	Service string
	// Pool is the service's database, which must hold the inbox and outbox tables.
	Pool *pgxpool.Pool
	// Relay publishes the answer right after the commit (PublishNow); the
	// relay's Run publishes it later if that fails.
	Relay *outbox.Relay
	// Erase is the service's own erasure.
	Erase Eraser
	// Guard is the service's tombstone guard; the participant counts its
	// suppressions in the verification and guards its own dead letters.
	Guard *Guard
	// JS reads the Consumers' state for the verification.
	JS jetstream.JetStream
	// Consumers are the service's consumers of customer messages: the
	// verification waits until each has settled every message up to the
	// purge bound of its stream.
	Consumers []Consumer
	Logger    *slog.Logger
}

// Durable returns the participant's durable consumer name,
// "<service>-erasure". Renaming it would deliver every erasure request in
// the stream again: harmless (erasure is idempotent) but needless.
func (p Participant) Durable() string { return p.Service + "-erasure" }

// Subscription returns the participant's subscription: the durable
// "<service>-erasure" on stream GDPR, for gdpr.erasure.requested and
// gdpr.erasure.verify, with the
// probe of its database (pgdb.Probe, as pgdb.Dependency): a database
// outage pauses it until the database answers again.
func (p Participant) Subscription() natsjs.Subscription {
	sub := natsjs.Subscription{
		Stream:  events.StreamGDPR,
		Durable: p.Durable(),
		Routes: []natsjs.Route{
			{Filter: events.FilterErasureRequested, Type: events.TypeErasureRequested, Handler: p.handle},
			{Filter: events.FilterErasureVerify, Type: events.TypeErasureVerify, Handler: p.handleVerify},
		},
		Probes: map[string]natsjs.Probe{pgdb.Dependency: pgdb.Probe(p.Pool)},
	}
	if p.Guard != nil {
		sub.DeadLetters = p.Guard
	}
	return sub
}

// handle erases the customer named by an erasure request and answers. A
// database failure that means the database is unavailable is marked so
// (pgdb.Classify); any other one is a plain transient error.
func (p Participant) handle(ctx context.Context, msg natsjs.Message) error {
	var req events.ErasureRequested
	if err := msg.Event.Decode(&req); err != nil {
		return err // events.ErrMalformed: the runner dead-letters it
	}
	if _, err := uuid.Parse(req.ErasureID); err != nil {
		return natsjs.Permanent(fmt.Errorf("erasure request: erasure id: %w", err))
	}
	customer, err := uuid.Parse(req.CustomerID)
	if err != nil {
		return natsjs.Permanent(fmt.Errorf("erasure request %s: customer id: %w", req.ErasureID, err))
	}

	var answer events.Event
	var erased map[string]int64
	err = pgx.BeginFunc(ctx, p.Pool, func(tx pgx.Tx) error {
		first, err := inbox.Record(ctx, tx, p.Durable(), msg.Event.ID)
		if err != nil || !first {
			return err // a redelivery: erased and answered in the transaction that recorded it
		}
		if err := lockExclusive(ctx, tx, customer.String()); err != nil {
			return err
		}
		if err := writeTombstone(ctx, tx, customer.String(), req.ErasureID, cutoff(req.RequestedAt)); err != nil {
			return err
		}
		erased, err = p.erase(ctx, tx, customer.String(), cutoff(req.RequestedAt))
		if err != nil {
			return err
		}
		answer, err = events.New("/orderbus/"+p.Service, events.TypeErasureCompleted, req.ErasureID,
			events.ErasureCompleted{
				ErasureID: req.ErasureID, CustomerID: customer.String(), Service: p.Service,
				Erased: erased, CompletedAt: time.Now().UTC(),
			})
		if err != nil {
			return err
		}
		return outbox.Enqueue(ctx, tx, events.ErasureCompletedSubject(p.Service), answer)
	})
	if err != nil {
		return pgdb.Classify(fmt.Errorf("erasure %s: %w", req.ErasureID, err))
	}
	if answer.ID == "" {
		p.Logger.Info("erasure request already handled", "erasure_id", req.ErasureID, "event_id", msg.Event.ID)
		return nil
	}
	log := p.Logger.With("erasure_id", req.ErasureID)
	log.Info("customer erased", "erased", erased)
	p.Relay.PublishNow(ctx, log, answer.ID)
	return nil
}

// cutoff returns an erasure's cut-off: its request time, or now for a
// request that does not say.
func cutoff(requestedAt time.Time) time.Time {
	if requestedAt.IsZero() {
		return time.Now().UTC()
	}
	return requestedAt.UTC()
}

// erase runs the service's Eraser and deletes the customer's events about
// orders placed up to before that still wait in the outbox, and returns
// the counts ("outbox" for the latter).
func (p Participant) erase(ctx context.Context, tx pgx.Tx, customerID string, before time.Time) (map[string]int64, error) {
	erased, err := p.Erase(ctx, tx, customerID, before)
	if err != nil {
		return nil, fmt.Errorf("erase: %w", err)
	}
	if erased == nil {
		erased = map[string]int64{}
	}
	n, err := outbox.DeleteCustomerBefore(ctx, tx, customerID, before)
	if err != nil {
		return nil, err
	}
	erased["outbox"] += n
	return erased, nil
}
