package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// storeAnswer records a in tx: an audit entry and the participant's state
// (answered, with its time and counts). A participant that answers again
// (a re-erasure) has its counts and time replaced by the later answer; an
// answer older than the one stored is audited only. It returns
// answerRecorded, or answerIgnored (having written nothing) for a service
// that is not a participant of the erasure; errErasureNotFound for an
// unknown erasure, errCustomerMismatch when a names another customer, or
// the error of a statement.
func storeAnswer(ctx context.Context, tx pgx.Tx, a answer) (string, error) {
	var customerID uuid.UUID
	err := tx.QueryRow(ctx, `SELECT customer_id FROM erasures WHERE id = $1`, a.ErasureID).Scan(&customerID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", errErasureNotFound
	}
	if err != nil {
		return "", fmt.Errorf("read erasure: %w", err)
	}
	if customerID != a.CustomerID {
		return "", errCustomerMismatch
	}
	tag, err := tx.Exec(ctx, `UPDATE erasure_participants
		SET state = CASE WHEN state = 'verified' THEN 'verified' ELSE 'answered' END,
			answered_at = $3, erased = $4
		WHERE erasure_id = $1 AND service = $2 AND (answered_at IS NULL OR answered_at <= $3)`,
		a.ErasureID, a.Service, a.AnsweredAt, a.Erased)
	if err != nil {
		return "", fmt.Errorf("update participant: %w", err)
	}
	if tag.RowsAffected() == 0 {
		var known bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM erasure_participants
			WHERE erasure_id = $1 AND service = $2)`, a.ErasureID, a.Service).Scan(&known)
		if err != nil {
			return "", fmt.Errorf("find participant: %w", err)
		}
		if !known {
			return answerIgnored, nil
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO erasure_audit (erasure_id, action, at, service, erased, event_id)
		VALUES ($1, 'answered', $2, $3, $4, $5)`,
		a.ErasureID, a.AnsweredAt, a.Service, a.Erased, a.MessageID); err != nil {
		return "", fmt.Errorf("audit answer: %w", err)
	}
	return answerRecorded, nil
}
