package pgdb_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/pgdb"
)

func TestOpenWait(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	ctx := t.Context()

	pool, err := pgdb.OpenWait(ctx, log, cluster.NewDatabase(t), 10*time.Second)
	if err != nil {
		t.Fatalf("OpenWait on a running server: %v", err)
	}
	pool.Close()

	if _, err := pgdb.OpenWait(ctx, log, "postgres://%zz", time.Minute); err == nil {
		t.Fatal("OpenWait accepted a malformed url")
	}

	start := time.Now()
	_, err = pgdb.OpenWait(ctx, log, "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=1", 700*time.Millisecond)
	if err == nil {
		t.Fatal("OpenWait reached a server on port 1")
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("OpenWait waited %v, beyond its 700ms timeout", waited)
	}
}
