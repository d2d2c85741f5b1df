package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// insertErasure stores e (pending), its participants and its audit entry
// (naming eventID, the erasure requested event) in tx, and reports true.
// When the customer already has an open erasure it stores nothing and
// returns that erasure's id with false; uuid.Nil with false when that one
// completed before it could be read.
func insertErasure(ctx context.Context, tx pgx.Tx, e erasure, eventID string) (bool, uuid.UUID, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO erasures (id, customer_id, status, requested_at)
		VALUES ($1, $2, 'pending', $3)
		ON CONFLICT (customer_id) WHERE status = 'pending' DO NOTHING`,
		e.ID, e.CustomerID, e.RequestedAt)
	if err != nil {
		return false, uuid.Nil, fmt.Errorf("insert erasure: %w", err)
	}
	if tag.RowsAffected() == 0 {
		var open uuid.UUID
		err := tx.QueryRow(ctx, `SELECT id FROM erasures WHERE customer_id = $1 AND status = 'pending'`,
			e.CustomerID).Scan(&open)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return false, uuid.Nil, fmt.Errorf("find open erasure: %w", err)
		}
		return false, open, nil
	}
	services := make([]string, len(e.Participants))
	for i, p := range e.Participants {
		services[i] = p.Service
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO erasure_participants (erasure_id, service, position, state)
		SELECT $1, t.service, t.position, 'pending' FROM unnest($2::text[]) WITH ORDINALITY AS t(service, position)`,
		e.ID, services)
	b.Queue(`INSERT INTO erasure_audit (erasure_id, action, at, event_id) VALUES ($1, 'requested', $2, $3)`,
		e.ID, e.RequestedAt, eventID)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return false, uuid.Nil, fmt.Errorf("insert participants: %w", err)
	}
	return true, uuid.Nil, nil
}
