package pgdb

import (
	"context"
	"fmt"
	"hash/crc64"
	"io/fs"
	"regexp"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// MigrationSet is a named set of goose SQL migrations. Name (lower-case
// letters, digits and underscores) keys the set's own version table
// goose_<Name>, so several sets, such as a service's own schema and the
// shared outbox and inbox tables, live side by side in one database without
// their version numbers colliding. FS holds the set's NNNNN_name.sql files at
// its root, each with -- +goose Up and -- +goose Down sections.
type MigrationSet struct {
	Name string
	FS   fs.FS
}

var validSetName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,40}$`)

// Lock acquisition is polled by goose's session locker: every second for up
// to five minutes, long enough for another instance's migrations to finish.
const (
	lockPollSeconds = 1
	lockPolls       = 300
)

// Migrate applies every pending migration of each set, in the order given.
// Each set is applied under a PostgreSQL session-level advisory lock keyed by
// its version table, so many instances may call Migrate on the same database
// at once: one applies, the others wait and then find nothing to do.
// Each migration runs in its own transaction unless it says
// -- +goose NO TRANSACTION. Migrate returns an error naming the set when a
// set is invalid, the lock is not acquired within five minutes or ctx ends,
// or a migration fails; migrations of that set applied before the failure
// stay applied, and later sets are not attempted.
func Migrate(ctx context.Context, pool *pgxpool.Pool, sets ...MigrationSet) error {
	// The *sql.DB borrows connections from pool; closing it leaves pool open.
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	for _, set := range sets {
		if err := set.validate(); err != nil {
			return err
		}
		table := "goose_" + set.Name
		locker, err := lock.NewPostgresSessionLocker(
			lock.WithLockID(lockID(table)),
			lock.WithLockTimeout(lockPollSeconds, lockPolls),
		)
		if err != nil {
			return fmt.Errorf("migrate %s: create locker: %w", set.Name, err)
		}
		provider, err := goose.NewProvider(goose.DialectPostgres, db, set.FS,
			goose.WithTableName(table),
			goose.WithSessionLocker(locker),
			goose.WithDisableGlobalRegistry(true),
			goose.WithLogger(goose.NopLogger()),
		)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", set.Name, err)
		}
		if _, err := provider.Up(ctx); err != nil {
			return fmt.Errorf("migrate %s: %w", set.Name, err)
		}
	}
	return nil
}

func (s MigrationSet) validate() error {
	if !validSetName.MatchString(s.Name) {
		return fmt.Errorf("migration set name %q: want lower-case letters, digits and underscores", s.Name)
	}
	if s.FS == nil {
		return fmt.Errorf("migration set %s: nil FS", s.Name)
	}
	return nil
}

// lockID derives the advisory lock key from the version table name, so
// different sets (and goose's default key) never share a lock.
func lockID(table string) int64 {
	return int64(crc64.Checksum([]byte(table), crc64.MakeTable(crc64.ECMA)))
}
