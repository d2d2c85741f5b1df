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
	"github.com/orderbus/orderbus/pkg/inbox"
	"github.com/orderbus/orderbus/pkg/outbox"
)

// Erasure and participant states.
const (
	statusPending   = "pending"   // an erasure waiting for answers or its purge
	statusCompleted = "completed" // every participant answered and the streams are purged
	stateAnswered   = "answered"  // a participant has erased the customer
)

// Errors of Store methods.
var (
	// errErasureNotFound is returned for an unknown erasure id.
	errErasureNotFound = errors.New("erasure not found")
	// errCustomerMismatch is returned by Store.RecordAnswer when the answer
	// names another customer than the erasure's.
	errCustomerMismatch = errors.New("answer names another customer than the erasure's")
)

// Store reads and writes erasures in PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
}

// erasure is an erasure as stored, with its participants in configured order.
type erasure struct {
	ID           uuid.UUID
	CustomerID   uuid.UUID
	Status       string
	RequestedAt  time.Time
	CompletedAt  *time.Time
	Participants []participant
}

// participant is one service's part in an erasure. The JSON tags name the
// columns as Store.Erasure aggregates them.
type participant struct {
	Service    string           `json:"service"`
	State      string           `json:"state"`
	AnsweredAt *time.Time       `json:"answered_at"`
	Erased     map[string]int64 `json:"erased"`
}

// newErasure is everything Store.RequestErasure writes for a new erasure.
type newErasure struct {
	Erasure erasure      // pending, with the participants to ask
	Event   events.Event // the erasure requested event for the outbox
}

// RequestErasure stores n.Erasure, its participants (pending), its audit
// entry and n.Event in the outbox, in one transaction, and returns it
// with created true. When the customer already has an open (pending)
// erasure it stores nothing and returns that one, with created false; a
// concurrent request for the same customer waits for the first and then
// returns its erasure. It returns an error when a statement or the commit
// fails.
func (s *Store) RequestErasure(ctx context.Context, n newErasure) (erasure, bool, error) {
	// Three attempts: the open erasure a conflict points at may complete
	// before it is read, and then a new one can be inserted.
	for range 3 {
		var (
			open     uuid.UUID // the customer's open erasure, if the insert conflicted
			inserted bool
		)
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			open, inserted = uuid.Nil, false
			tag, err := tx.Exec(ctx, `INSERT INTO erasures (id, customer_id, status, requested_at)
				VALUES ($1, $2, 'pending', $3)
				ON CONFLICT (customer_id) WHERE status = 'pending' DO NOTHING`,
				n.Erasure.ID, n.Erasure.CustomerID, n.Erasure.RequestedAt)
			if err != nil {
				return fmt.Errorf("insert erasure: %w", err)
			}
			if tag.RowsAffected() == 0 {
				err := tx.QueryRow(ctx, `SELECT id FROM erasures WHERE customer_id = $1 AND status = 'pending'`,
					n.Erasure.CustomerID).Scan(&open)
				if err != nil && !errors.Is(err, pgx.ErrNoRows) {
					return fmt.Errorf("find open erasure: %w", err)
				}
				return nil
			}
			services := make([]string, len(n.Erasure.Participants))
			for i, p := range n.Erasure.Participants {
				services[i] = p.Service
			}
			b := &pgx.Batch{}
			b.Queue(`INSERT INTO erasure_participants (erasure_id, service, position, state)
				SELECT $1, t.service, t.position, 'pending' FROM unnest($2::text[]) WITH ORDINALITY AS t(service, position)`,
				n.Erasure.ID, services)
			b.Queue(`INSERT INTO erasure_audit (erasure_id, action, at, event_id) VALUES ($1, 'requested', $2, $3)`,
				n.Erasure.ID, n.Erasure.RequestedAt, n.Event.ID)
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return fmt.Errorf("insert participants: %w", err)
			}
			if err := outbox.Enqueue(ctx, tx, events.SubjectErasureRequested, n.Event); err != nil {
				return err
			}
			inserted = true
			return nil
		})
		switch {
		case err != nil:
			return erasure{}, false, fmt.Errorf("request erasure: %w", err)
		case inserted:
			return n.Erasure, true, nil
		case open != uuid.Nil:
			// Erasures are never deleted: it is there to read.
			e, err := s.Erasure(ctx, open)
			return e, false, err
		}
	}
	return erasure{}, false, errors.New("request erasure: the customer's open erasure kept completing; try again")
}

// Erasure returns the erasure with its participants, read in one
// statement. It returns errErasureNotFound for an unknown id, or the query
// error.
func (s *Store) Erasure(ctx context.Context, id uuid.UUID) (erasure, error) {
	var e erasure
	err := s.pool.QueryRow(ctx, `SELECT e.id, e.customer_id, e.status, e.requested_at, e.completed_at,
		COALESCE((SELECT json_agg(json_build_object('service', p.service, 'state', p.state,
				'answered_at', p.answered_at, 'erased', p.erased) ORDER BY p.position)
			FROM erasure_participants p WHERE p.erasure_id = e.id), '[]')
		FROM erasures e WHERE e.id = $1`, id).
		Scan(&e.ID, &e.CustomerID, &e.Status, &e.RequestedAt, &e.CompletedAt, &e.Participants)
	if errors.Is(err, pgx.ErrNoRows) {
		return erasure{}, errErasureNotFound
	}
	if err != nil {
		return erasure{}, fmt.Errorf("read erasure %s: %w", id, err)
	}
	return e, nil
}

// answer is a participant's confirmation, recorded by Store.RecordAnswer.
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

// Outcomes of Store.RecordAnswer, the outcome label of gdpr_answers_total.
const (
	answerRecorded   = "recorded"  // the answer is stored
	answerDuplicate  = "duplicate" // the message was already handled
	answerIgnored    = "ignored"   // the service is not a participant of the erasure
	erasureRequested = "requested" // gdpr_erasures_total: a new erasure
	erasureRepeated  = "repeated"  // gdpr_erasures_total: a request returned the open one
	erasureCompleted = "completed" // gdpr_erasures_total: an erasure completed
)

// RecordAnswer records a in one transaction: the message in the inbox,
// an audit entry, and the participant's state (answered, with its time and
// counts). A participant that answers again (a re-erasure) has its counts
// and time replaced by the later answer; an answer older than the one
// stored is audited only. A message already recorded changes nothing
// (answerDuplicate); an answer from a service that is not a participant of
// the erasure records nothing at all (answerIgnored). It returns
// errErasureNotFound for an unknown erasure, errCustomerMismatch when a
// names another customer (both record nothing), or the error of a
// statement or the commit.
func (s *Store) RecordAnswer(ctx context.Context, a answer) (string, error) {
	var outcome string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		isNew, err := inbox.Record(ctx, tx, a.Consumer, a.MessageID)
		if err != nil {
			return err
		}
		if !isNew {
			outcome = answerDuplicate
			return nil
		}
		var customerID uuid.UUID
		err = tx.QueryRow(ctx, `SELECT customer_id FROM erasures WHERE id = $1`, a.ErasureID).Scan(&customerID)
		if errors.Is(err, pgx.ErrNoRows) {
			return errErasureNotFound
		}
		if err != nil {
			return fmt.Errorf("read erasure: %w", err)
		}
		if customerID != a.CustomerID {
			return errCustomerMismatch
		}
		tag, err := tx.Exec(ctx, `UPDATE erasure_participants
			SET state = 'answered', answered_at = $3, erased = $4
			WHERE erasure_id = $1 AND service = $2 AND (answered_at IS NULL OR answered_at <= $3)`,
			a.ErasureID, a.Service, a.AnsweredAt, a.Erased)
		if err != nil {
			return fmt.Errorf("update participant: %w", err)
		}
		if tag.RowsAffected() == 0 {
			var known bool
			err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM erasure_participants
				WHERE erasure_id = $1 AND service = $2)`, a.ErasureID, a.Service).Scan(&known)
			if err != nil {
				return fmt.Errorf("find participant: %w", err)
			}
			if !known {
				outcome = answerIgnored
				return errIgnored // roll back the inbox record too
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO erasure_audit (erasure_id, action, at, service, erased, event_id)
			VALUES ($1, 'answered', $2, $3, $4, $5)`,
			a.ErasureID, a.AnsweredAt, a.Service, a.Erased, a.MessageID); err != nil {
			return fmt.Errorf("audit answer: %w", err)
		}
		outcome = answerRecorded
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

// errIgnored rolls back RecordAnswer's transaction for an answer that is
// to be ignored; it never leaves the Store.
var errIgnored = errors.New("answer ignored")

// Answered returns up to limit pending erasures whose participants have
// all answered, oldest first: those whose completion failed and is due
// again. It returns the query error, if any.
func (s *Store) Answered(ctx context.Context, limit int) ([]uuid.UUID, error) {
	rows, _ := s.pool.Query(ctx, `SELECT e.id FROM erasures e
		WHERE e.status = 'pending' AND NOT EXISTS (SELECT 1 FROM erasure_participants p
			WHERE p.erasure_id = e.id AND p.state <> 'answered')
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
