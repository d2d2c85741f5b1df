package pgdb

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// acquireDeadline bounds every acquisition from a pool by a timeout. It is
// the pool's tracer: pgxpool calls TraceAcquireStart at the start of every
// Acquire (which Query, Exec, Begin, Ping and the rest go through) and
// uses the context it returns for the acquisition only, then passes that
// context to TraceAcquireEnd. The query tracing it must also implement as
// a pgx.QueryTracer does nothing.
type acquireDeadline time.Duration

// acquireCancelKey keys the cancel function of the acquisition's context.
type acquireCancelKey struct{}

// TraceAcquireStart returns ctx with the acquire timeout added.
func (d acquireDeadline) TraceAcquireStart(ctx context.Context, _ *pgxpool.Pool, _ pgxpool.TraceAcquireStartData) context.Context {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(d))
	return context.WithValue(ctx, acquireCancelKey{}, cancel)
}

// TraceAcquireEnd releases the timer of the acquisition's context.
func (acquireDeadline) TraceAcquireEnd(ctx context.Context, _ *pgxpool.Pool, _ pgxpool.TraceAcquireEndData) {
	if cancel, ok := ctx.Value(acquireCancelKey{}).(context.CancelFunc); ok {
		cancel()
	}
}

// TraceQueryStart returns ctx unchanged.
func (acquireDeadline) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

// TraceQueryEnd does nothing.
func (acquireDeadline) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
