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

// migrationSets returns the migration sets run applies: the shared outbox
// and inbox tables, then this service's own schema (version table
// goose_order).
func migrationSets() ([]pgdb.MigrationSet, error) {
	own, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("migrations folder: %w", err)
	}
	return []pgdb.MigrationSet{outbox.Migrations(), inbox.Migrations(), erasure.Migrations(), {Name: "order", FS: own}}, nil
}
