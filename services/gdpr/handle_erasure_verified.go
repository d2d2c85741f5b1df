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

// Outcomes of recordVerification, also the outcome label of gdpr_answers_total.
const (
	verificationRecorded = "verified"           // the verification is stored
	verificationEarly    = "verified_too_early" // the erasure is not purged yet: ignored (cannot happen unless forged)
)

// handleErasureVerified records a participant's verification
// (recordVerification) and then completes the erasure when every
// participant has verified (completer.complete). A verification from a
// non-participant, or before the purge, is logged at warn and
// acknowledged; an invalid one, an unknown erasure and another customer
// are dead-lettered; database failures are retried with backoff.
func handleErasureVerified(logger *slog.Logger, store *Store, c *completer, m *metrics) natsjs.Handler {
	return func(ctx context.Context, msg natsjs.Message) error {
		ev := msg.Event
		var p events.ErasureVerified
		if err := ev.Decode(&p); err != nil {
			return err // events.ErrMalformed: dead-lettered
		}
		v, err := newVerified(ev, p, msg.Subject)
		if err != nil {
			return natsjs.Permanent(fmt.Errorf("erasure verified event %s: %w", ev.ID, err))
		}
		log := logger.With("event_id", ev.ID, "erasure_id", v.ErasureID, "participant", v.Service,
			"delivery", msg.NumDelivered)
		outcome, err := recordVerification(ctx, store, v)
		if errors.Is(err, errErasureNotFound) || errors.Is(err, errCustomerMismatch) {
			return natsjs.Permanent(err)
		}
		if err != nil {
			return pgdb.Classify(err)
		}
		m.answers.WithLabelValues(outcome).Inc()
		switch outcome {
		case answerIgnored, verificationEarly:
			log.Warn("verification ignored", "outcome", outcome)
			return nil
		case answerDuplicate:
			log.Info("verification already recorded")
		default:
			log.Info("verification recorded", "consumers", v.Report.Consumers, "suppressed", v.Report.Suppressed)
		}
		if _, err := c.complete(ctx, v.ErasureID); err != nil {
			return fmt.Errorf("verification recorded; completion: %w", err)
		}
		return nil
	}
}

// verified is a participant's verification, recorded by recordVerification.
type verified struct {
	MessageID  string
	ErasureID  uuid.UUID
	CustomerID uuid.UUID
	Service    string
	Report     verification
	VerifiedAt time.Time
}

// newVerified checks a participant's verification. Errors name the field,
// never a value.
func newVerified(ev events.Event, p events.ErasureVerified, subject string) (verified, error) {
	erasureID, err := uuid.Parse(p.ErasureID)
	if err != nil || !events.ValidUUID(p.ErasureID) {
		return verified{}, errors.New("erasure_id is not a UUID")
	}
	customerID, err := uuid.Parse(p.CustomerID)
	if err != nil || !events.ValidUUID(p.CustomerID) {
		return verified{}, errors.New("customer_id is not a UUID")
	}
	if p.Service == "" {
		return verified{}, errors.New("service is empty")
	}
	if want := events.ErasureVerifiedSubject(p.Service); subject != want {
		return verified{}, fmt.Errorf("published on %s, not on its service's subject %s", subject, want)
	}
	for kind, n := range p.Remaining {
		if n != 0 {
			return verified{}, fmt.Errorf("remaining count of %q is not zero", kind)
		}
	}
	at := p.VerifiedAt
	if at.IsZero() {
		at = ev.Time
	}
	if at.IsZero() {
		at = time.Now()
	}
	if p.Remaining == nil {
		p.Remaining = map[string]int64{}
	}
	if p.Consumers == nil {
		p.Consumers = map[string]uint64{}
	}
	return verified{
		MessageID: ev.ID, ErasureID: erasureID, CustomerID: customerID, Service: p.Service,
		Report:     verification{Remaining: p.Remaining, Suppressed: p.Suppressed, Consumers: p.Consumers},
		VerifiedAt: at.UTC().Truncate(time.Microsecond),
	}, nil
}

// recordVerification records v in one transaction, within answerTimeout:
// the message in the inbox (answerDuplicate when already there), the
// participant verified, and an audit entry. It returns answerIgnored for a
// service that is not a participant, verificationEarly for an erasure not
// purged yet (both roll back, the inbox record too), errErasureNotFound,
// errCustomerMismatch, or the error of a statement.
func recordVerification(ctx context.Context, store *Store, v verified) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, answerTimeout)
	defer cancel()
	var outcome string
	err := pgx.BeginFunc(ctx, store.pool, func(tx pgx.Tx) error {
		first, err := inbox.Record(ctx, tx, durableCompletions, v.MessageID)
		if err != nil || !first {
			outcome = answerDuplicate
			return err
		}
		var (
			customerID uuid.UUID
			purged     bool
		)
		err = tx.QueryRow(ctx, `SELECT customer_id, purged_at IS NOT NULL FROM erasures WHERE id = $1`, v.ErasureID).
			Scan(&customerID, &purged)
		if errors.Is(err, pgx.ErrNoRows) {
			return errErasureNotFound
		}
		if err != nil {
			return fmt.Errorf("read erasure: %w", err)
		}
		if customerID != v.CustomerID {
			return errCustomerMismatch
		}
		if !purged {
			outcome = verificationEarly
			return errIgnored
		}
		tag, err := tx.Exec(ctx, `UPDATE erasure_participants
			SET state = 'verified', verified_at = $3, verification = $4
			WHERE erasure_id = $1 AND service = $2 AND state <> 'pending'`,
			v.ErasureID, v.Service, v.VerifiedAt, v.Report)
		if err != nil {
			return fmt.Errorf("update participant: %w", err)
		}
		if tag.RowsAffected() == 0 {
			outcome = answerIgnored
			return errIgnored
		}
		if _, err := tx.Exec(ctx, `INSERT INTO erasure_audit (erasure_id, action, at, service, event_id, detail)
			VALUES ($1, 'verified', $2, $3, $4, $5)`, v.ErasureID, v.VerifiedAt, v.Service, v.MessageID, v.Report); err != nil {
			return fmt.Errorf("audit verification: %w", err)
		}
		outcome = verificationRecorded
		return nil
	})
	if errors.Is(err, errIgnored) {
		return outcome, nil
	}
	if err != nil {
		return "", fmt.Errorf("record verification of %s for erasure %s: %w", v.Service, v.ErasureID, err)
	}
	return outcome, nil
}
