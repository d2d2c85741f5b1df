package main

import (
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/orderbus/orderbus/pkg/erasure"
	"github.com/orderbus/orderbus/pkg/inbox"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/pgdb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// databaseWaitTimeout bounds how long run waits for PostgreSQL at start
// (it may start at the same time as the service, as in docker compose).
const databaseWaitTimeout = time.Minute

// migrationSets returns the migration sets run applies: the shared inbox
// and outbox tables (the outbox holds erasure answers until they are
// published), then this service's own schema (version table goose_sms).
func migrationSets() ([]pgdb.MigrationSet, error) {
	own, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("migrations folder: %w", err)
	}
	return []pgdb.MigrationSet{inbox.Migrations(), outbox.Migrations(), erasure.Migrations(), {Name: "sms", FS: own}}, nil
}
