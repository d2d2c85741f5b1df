package pgdb

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// probeTimeout bounds one probe, whatever deadline its caller gives.
const probeTimeout = 5 * time.Second

// Probe returns a natsjs.Probe of the database behind pool, to register as
// ConsumerConfig.Probes[Dependency]: it pings the server through the pool
// (so it needs a connection to be acquired, or made, and answered) within
// ctx and at most 5 s, and returns nil once it answers.
func Probe(pool *pgxpool.Pool) func(context.Context) error {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		if err := pool.Ping(ctx); err != nil {
			return fmt.Errorf("ping postgres: %w", err)
		}
		return nil
	}
}
