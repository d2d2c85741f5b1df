package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderbus/orderbus/pkg/events"
)

// Erasure and participant states.
const (
	statusPending   = "pending"   // an erasure waiting for answers or its purge
	statusCompleted = "completed" // every participant answered, the streams are purged, every participant verified
	stateAnswered   = "answered"  // a participant has erased the customer
	stateVerified   = "verified"  // a participant has verified the erasure after the purge
)

// Errors of Store methods.
var (
	// errErasureNotFound is returned for an unknown erasure id.
	errErasureNotFound = errors.New("erasure not found")
	// errCustomerMismatch is returned by storeAnswer when the answer
	// names another customer than the erasure's.
	errCustomerMismatch = errors.New("answer names another customer than the erasure's")
)

// Store reads erasures in PostgreSQL; the handlers write them in their
// own transactions (store_*.go).
type Store struct {
	pool *pgxpool.Pool
}

// newStore returns a Store on pool.
func newStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// erasure is an erasure as stored, with its participants in configured order.
type erasure struct {
	ID           uuid.UUID
	CustomerID   uuid.UUID
	Status       string
	RequestedAt  time.Time
	CompletedAt  *time.Time
	PurgedAt     *time.Time
	Purge        *purgeResult
	Participants []participant
}

// participant is one service's part in an erasure. The JSON tags name the
// columns as Store.Erasure aggregates them.
type participant struct {
	Service    string           `json:"service"`
	State      string           `json:"state"`
	AnsweredAt *time.Time       `json:"answered_at"`
	Erased     map[string]int64 `json:"erased"`
	VerifiedAt *time.Time       `json:"verified_at"`
	// Verification is what the participant reported (verification); nil
	// until it has verified.
	Verification *verification `json:"verification"`
}

// verification is a participant's verification report, as stored.
type verification struct {
	Remaining  map[string]int64  `json:"remaining"`
	Suppressed int64             `json:"suppressed"`
	Consumers  map[string]uint64 `json:"consumers"`
}

// newErasure is everything requestErasure writes for a new erasure.
type newErasure struct {
	Erasure erasure      // pending, with the participants to ask
	Event   events.Event // the erasure requested event for the outbox
}

// Erasure returns the erasure with its participants, read in one
// statement. It returns errErasureNotFound for an unknown id, or the query
// error.
func (s *Store) Erasure(ctx context.Context, id uuid.UUID) (erasure, error) {
	var e erasure
	err := s.pool.QueryRow(ctx, `SELECT e.id, e.customer_id, e.status, e.requested_at, e.completed_at,
		e.purged_at, e.purge,
		COALESCE((SELECT json_agg(json_build_object('service', p.service, 'state', p.state,
				'answered_at', p.answered_at, 'erased', p.erased,
				'verified_at', p.verified_at, 'verification', p.verification) ORDER BY p.position)
			FROM erasure_participants p WHERE p.erasure_id = e.id), '[]')
		FROM erasures e WHERE e.id = $1`, id).
		Scan(&e.ID, &e.CustomerID, &e.Status, &e.RequestedAt, &e.CompletedAt, &e.PurgedAt, &e.Purge, &e.Participants)
	if errors.Is(err, pgx.ErrNoRows) {
		return erasure{}, errErasureNotFound
	}
	if err != nil {
		return erasure{}, fmt.Errorf("read erasure %s: %w", id, err)
	}
	return e, nil
}

// answer is a participant's confirmation, recorded by recordAnswer.
type answer struct {
	// Consumer and MessageID are recorded in the inbox: a message already
	// recorded for Consumer changes nothing.
	Consumer, MessageID string
	ErasureID           uuid.UUID
	CustomerID          uuid.UUID
	Service             string
	Erased              map[string]int64
	AnsweredAt          time.Time
}

// Outcomes of recordAnswer, the outcome label of gdpr_answers_total.
const (
	answerRecorded   = "recorded"  // the answer is stored
	answerDuplicate  = "duplicate" // the message was already handled
	answerIgnored    = "ignored"   // the service is not a participant of the erasure
	erasureRequested = "requested" // gdpr_erasures_total: a new erasure
	erasureRepeated  = "repeated"  // gdpr_erasures_total: a request returned the open one
	erasureCompleted = "completed" // gdpr_erasures_total: an erasure completed
)

// Answered returns up to limit pending erasures whose participants have
// all answered, oldest first: those whose purge, or completion after the
// verifications, failed and is due again (and those waiting for a
// verification, for which completer.complete does nothing). It returns the query error, if any.
func (s *Store) Answered(ctx context.Context, limit int) ([]uuid.UUID, error) {
	rows, _ := s.pool.Query(ctx, `SELECT e.id FROM erasures e
		WHERE e.status = 'pending' AND NOT EXISTS (SELECT 1 FROM erasure_participants p
			WHERE p.erasure_id = e.id AND p.state = 'pending')
		ORDER BY e.requested_at LIMIT $1`, limit)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("list answered erasures: %w", err)
	}
	return ids, nil
}

// OpenStats returns how many erasures are pending and the age of the
// oldest, in seconds (0 when none is). It returns the query error, if any.
func (s *Store) OpenStats(ctx context.Context) (open int64, oldestAge float64, err error) {
	err = s.pool.QueryRow(ctx, `SELECT count(*),
		GREATEST(COALESCE(EXTRACT(epoch FROM now() - min(requested_at)), 0), 0)::float8
		FROM erasures WHERE status = 'pending'`).Scan(&open, &oldestAge)
	if err != nil {
		return 0, 0, fmt.Errorf("open erasure stats: %w", err)
	}
	return open, oldestAge, nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }
