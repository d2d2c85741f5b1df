package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orderbus/orderbus/pkg/pgdb"
)

// errSKUNotFound is returned by Store.StockItem for a SKU not in the catalog.
var errSKUNotFound = errors.New("sku not found")

// Store is the inventory service's database: stock levels, reservations,
// the inbox and the outbox.
type Store struct {
	pool *pgxpool.Pool
	// group runs concurrent reservations in one transaction (group commit).
	group *pgdb.TxGroup
}

// newStore returns a Store on pool, whose schema must be migrated.
func newStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, group: pgdb.NewTxGroup(pool, reserveTimeout)}
}

// Ping checks that the database answers; it is the /readyz check.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// StockItem is the stock level of one SKU.
type StockItem struct {
	SKU       string    `json:"sku"`
	Name      string    `json:"name"`
	Available int       `json:"available"`
	UpdatedAt time.Time `json:"updated_at"`
}

// stockColumns are the columns scanStockItem reads.
const stockColumns = `sku, name, available, updated_at`

func scanStockItem(row pgx.CollectableRow) (StockItem, error) {
	var it StockItem
	err := row.Scan(&it.SKU, &it.Name, &it.Available, &it.UpdatedAt)
	it.UpdatedAt = it.UpdatedAt.UTC()
	return it, err
}

// StockItems returns every SKU's stock level, sorted by SKU bytewise (as
// Go sorts, whatever the database's collation). It returns an error when
// the query fails.
func (s *Store) StockItems(ctx context.Context) ([]StockItem, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+stockColumns+` FROM stock ORDER BY sku COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("list stock: %w", err)
	}
	items, err := pgx.CollectRows(rows, scanStockItem)
	if err != nil {
		return nil, fmt.Errorf("list stock: %w", err)
	}
	return items, nil
}

// StockItem returns the stock level of sku. It returns errSKUNotFound when
// the SKU is not in the catalog, or the query error.
func (s *Store) StockItem(ctx context.Context, sku string) (StockItem, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+stockColumns+` FROM stock WHERE sku = $1`, sku)
	if err != nil {
		return StockItem{}, fmt.Errorf("read stock of %s: %w", sku, err)
	}
	it, err := pgx.CollectExactlyOneRow(rows, scanStockItem)
	if errors.Is(err, pgx.ErrNoRows) {
		return StockItem{}, errSKUNotFound
	}
	if err != nil {
		return StockItem{}, fmt.Errorf("read stock of %s: %w", sku, err)
	}
	return it, nil
}

// SetStock sets the available quantity of sku, adding the SKU to the
// catalog when it is new. name, when not nil, replaces the SKU's name; a
// new SKU without one is named "". The row lock it takes makes it wait for
// reservations holding the SKU, so a level set here is never overwritten
// by a reservation decided on the old level. It returns the stored item and
// whether the SKU was created, or the statement's error (a SKU that does
// not match the catalog's pattern, a negative level).
func (s *Store) SetStock(ctx context.Context, sku string, available int, name *string) (StockItem, bool, error) {
	rows, err := s.pool.Query(ctx, `
		INSERT INTO stock AS s (sku, name, available, updated_at)
		VALUES ($1, COALESCE($2, ''), $3, now())
		ON CONFLICT (sku) DO UPDATE
		SET available = EXCLUDED.available, name = COALESCE($2, s.name), updated_at = now()
		RETURNING `+stockColumns+`, (xmax = 0) AS created`, sku, name, available)
	if err != nil {
		return StockItem{}, false, fmt.Errorf("set stock of %s: %w", sku, err)
	}
	var created bool
	it, err := pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (StockItem, error) {
		var it StockItem
		err := row.Scan(&it.SKU, &it.Name, &it.Available, &it.UpdatedAt, &created)
		it.UpdatedAt = it.UpdatedAt.UTC()
		return it, err
	})
	if err != nil {
		return StockItem{}, false, fmt.Errorf("set stock of %s: %w", sku, err)
	}
	return it, created, nil
}
