package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/inbox"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/pgdb"
)

// answerTimeout bounds the transaction recording an answer.
const answerTimeout = 10 * time.Second

// handleErasureCompleted records a participant's answer (recordAnswer)
// and then, in a step of its own, completes the erasure when every
// participant has answered (completer.complete). A duplicate still goes
// on to the completion, so a redelivery retries a failed purge. An answer
// from a non-participant is logged at warn and acknowledged; an invalid
// answer (see newAnswer), an unknown erasure and another customer are
// dead-lettered; database and purge failures are retried with backoff.
// See README "Guarantees".
func handleErasureCompleted(logger *slog.Logger, store *Store, c *completer, m *metrics) natsjs.Handler {
	return func(ctx context.Context, msg natsjs.Message) error {
		ev := msg.Event
		var p events.ErasureCompleted
		if err := ev.Decode(&p); err != nil {
			return err // events.ErrMalformed: dead-lettered
		}
		a, err := newAnswer(ev, p, msg.Subject)
		if err != nil {
			return natsjs.Permanent(fmt.Errorf("erasure completed event %s: %w", ev.ID, err))
		}
		log := logger.With("event_id", ev.ID, "erasure_id", a.ErasureID, "participant", a.Service,
			"delivery", msg.NumDelivered)

		outcome, err := recordAnswer(ctx, store, a)
		if errors.Is(err, errErasureNotFound) || errors.Is(err, errCustomerMismatch) {
			return natsjs.Permanent(err)
		}
		if err != nil {
			return pgdb.Classify(err)
		}
		m.answers.WithLabelValues(outcome).Inc()
		switch outcome {
		case answerIgnored:
			log.Warn("answer from a service that is not a participant of the erasure; ignored")
			return nil
		case answerDuplicate:
			log.Info("answer already recorded")
		default:
			log.Info("answer recorded", "erased", a.Erased)
		}
		if _, err := c.complete(ctx, a.ErasureID); err != nil {
			return fmt.Errorf("answer recorded; completion: %w", err)
		}
		return nil
	}
}

// recordAnswer records a in one transaction, within answerTimeout: the
// message in the inbox (a message already recorded changes nothing:
// answerDuplicate) and then the answer (storeAnswer). An answer that is
// ignored rolls the inbox record back too. It returns the outcome, or the
// error of storeAnswer, a statement or the commit.
func recordAnswer(ctx context.Context, store *Store, a answer) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, answerTimeout)
	defer cancel()
	var outcome string
	err := pgx.BeginFunc(ctx, store.pool, func(tx pgx.Tx) error {
		first, err := inbox.Record(ctx, tx, a.Consumer, a.MessageID)
		if err != nil || !first {
			outcome = answerDuplicate
			return err
		}
		if outcome, err = storeAnswer(ctx, tx, a); err != nil {
			return err
		}
		if outcome == answerIgnored {
			return errIgnored
		}
		return nil
	})
	if errors.Is(err, errIgnored) {
		return answerIgnored, nil
	}
	if err != nil {
		return "", fmt.Errorf("record answer of %s to erasure %s: %w", a.Service, a.ErasureID, err)
	}
	return outcome, nil
}

// errIgnored rolls back recordAnswer's transaction for an answer that is
// to be ignored; it never leaves recordAnswer.
var errIgnored = errors.New("answer ignored")

// newAnswer checks a participant's answer and returns it for the store.
// The answer's time is the participant's completed_at, else the event's
// time, else now. Errors name the field, never a value.
func newAnswer(ev events.Event, p events.ErasureCompleted, subject string) (answer, error) {
	erasureID, err := uuid.Parse(p.ErasureID)
	if err != nil || !events.ValidUUID(p.ErasureID) {
		return answer{}, errors.New("erasure_id is not a UUID")
	}
	customerID, err := uuid.Parse(p.CustomerID)
	if err != nil || !events.ValidUUID(p.CustomerID) {
		return answer{}, errors.New("customer_id is not a UUID")
	}
	if p.Service == "" {
		return answer{}, errors.New("service is empty")
	}
	if want := events.ErasureCompletedSubject(p.Service); subject != want {
		return answer{}, fmt.Errorf("published on %s, not on its service's subject %s", subject, want)
	}
	erased := make(map[string]int64, len(p.Erased))
	for kind, n := range p.Erased {
		if n < 0 {
			return answer{}, fmt.Errorf("erased count of %q is negative", kind)
		}
		erased[kind] = n
	}
	at := p.CompletedAt
	if at.IsZero() {
		at = ev.Time
	}
	if at.IsZero() {
		at = time.Now()
	}
	return answer{
		Consumer:   durableCompletions,
		MessageID:  ev.ID,
		ErasureID:  erasureID,
		CustomerID: customerID,
		Service:    p.Service,
		Erased:     erased,
		// PostgreSQL keeps microseconds: the later-answer comparison and
		// GET see what is stored.
		AnsweredAt: at.UTC().Truncate(time.Microsecond),
	}, nil
}
