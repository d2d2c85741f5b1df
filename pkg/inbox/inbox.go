// Package inbox makes event consumers idempotent: a handler records the
// message id in the same transaction as its effect, and skips the effect when
// the id was already recorded, because JetStream delivers at least once.
package inbox

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/pkg/pgdb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations returns the migration set, named "inbox", that creates the
// inbox table. Apply it with pgdb.Migrate before calling Record.
func Migrations() pgdb.MigrationSet {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		// fs.Sub fails only for an invalid path, and this one is constant.
		panic(fmt.Sprintf("inbox: migrations folder: %v", err))
	}
	return pgdb.MigrationSet{Name: "inbox", FS: sub}
}

// Record stores (consumer, messageID) in tx and reports whether it was new.
// It returns false when the pair was already recorded by a committed
// transaction: the message is a redelivery and its effect must not be
// repeated. Consumers are independent: the same message id may be recorded
// once per consumer. When another transaction has recorded the same pair but
// not yet committed, Record waits for it and, under the default READ
// COMMITTED isolation, returns false if it commits and true if it rolls back.
// The record, like the effect, is kept only if tx commits.
// It returns an error when consumer or messageID is empty or the insert fails.
func Record(ctx context.Context, tx pgx.Tx, consumer, messageID string) (bool, error) {
	if consumer == "" || messageID == "" {
		return false, errors.New("inbox record: consumer and message id must not be empty")
	}
	tag, err := tx.Exec(ctx,
		`INSERT INTO inbox (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
		consumer, messageID)
	if err != nil {
		return false, fmt.Errorf("inbox record %s/%s: %w", consumer, messageID, err)
	}
	return tag.RowsAffected() == 1, nil
}
