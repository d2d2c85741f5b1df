// Package outbox implements the transactional outbox: an event is stored in
// the same PostgreSQL transaction as the business change it announces
// (Enqueue), and a Relay publishes it to JetStream afterwards, deleting the
// row once the PubAck arrives. An event is thus published if and only if the
// change commits, even when the broker is down at that moment or the process
// crashes after the commit. A publish may be repeated (a crash between the
// PubAck and the delete); the Nats-Msg-Id header, the event id, lets
// JetStream drop the copy within the stream's duplicate window.
package outbox

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/pgdb"
	"github.com/orderbus/orderbus/pkg/telemetry"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations returns the migration set, named "outbox", that creates the
// outbox table. Apply it with pgdb.Migrate before using Enqueue or a Relay.
func Migrations() pgdb.MigrationSet {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		// fs.Sub fails only for an invalid path, and this one is constant.
		panic(fmt.Sprintf("outbox: migrations folder: %v", err))
	}
	return pgdb.MigrationSet{Name: "outbox", FS: sub}
}

// Enqueue stores ev, to be published on the NATS subject subject, in tx: it
// becomes visible to relays only if tx commits. Call it in the transaction
// that makes the change ev announces, then, after the commit, Relay.Publish
// with ev.ID to send it at once (or let Relay.Run pick it up). The event is
// published exactly as given, except that its time keeps microseconds only
// (PostgreSQL timestamptz), and that an event without a TraceParent gets
// the trace context of ctx (telemetry.StampEvent): the span of the
// request or message handling the change, so the publish and every
// consumer continue its trace. It returns an error when subject, ev.ID,
// ev.Source or ev.Type is empty, when an event with the same id is already
// waiting, or when the insert fails.
func Enqueue(ctx context.Context, tx pgx.Tx, subject string, ev events.Event) error {
	if err := checkEnqueue(subject, ev); err != nil {
		return err
	}
	ev = telemetry.StampEvent(ctx, ev)
	if _, err := tx.Exec(ctx, insertSQL, enqueueArgs(subject, ev)...); err != nil {
		return fmt.Errorf("outbox enqueue %s %s: %w", ev.Type, ev.ID, err)
	}
	return nil
}

// QueueEnqueue is Enqueue for a pgx.Batch: it queues the insert of ev, to
// be published on subject, in b (with the trace context of ctx, as Enqueue), so that the caller sends it together with
// the business change in one round trip. Send b in one transaction: an
// explicit one, or pgx's implicit one (Pool.SendBatch outside a
// transaction runs the whole batch as one transaction, committed at its
// end). Reading the batch's results reports the insert's error. It returns
// an error, and queues nothing, when subject, ev.ID, ev.Source or ev.Type
// is empty.
func QueueEnqueue(ctx context.Context, b *pgx.Batch, subject string, ev events.Event) error {
	if err := checkEnqueue(subject, ev); err != nil {
		return err
	}
	ev = telemetry.StampEvent(ctx, ev)
	b.Queue(insertSQL, enqueueArgs(subject, ev)...)
	return nil
}

const insertSQL = `INSERT INTO outbox
		(id, subject, source, type, event_subject, event_time, traceparent, tracestate, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`

func checkEnqueue(subject string, ev events.Event) error {
	if subject == "" || ev.ID == "" || ev.Source == "" || ev.Type == "" {
		return errors.New("outbox enqueue: subject, event id, source and type are required")
	}
	return nil
}

func enqueueArgs(subject string, ev events.Event) []any {
	return []any{ev.ID, subject, ev.Source, ev.Type, ev.Subject,
		pgtype.Timestamptz{Time: ev.Time, Valid: !ev.Time.IsZero()},
		ev.TraceParent, ev.TraceState, []byte(ev.Data)}
}

// entry is one outbox row: an event and the subject to publish it on.
type entry struct {
	subject string
	event   events.Event
}

const selectColumns = `SELECT subject, id, source, type, event_subject, event_time, traceparent, tracestate, data FROM outbox`

// scanEntries reads the rows of a selectColumns query.
func scanEntries(rows pgx.Rows) ([]entry, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (entry, error) {
		var (
			e    entry
			at   pgtype.Timestamptz
			data []byte
		)
		err := row.Scan(&e.subject, &e.event.ID, &e.event.Source, &e.event.Type,
			&e.event.Subject, &at, &e.event.TraceParent, &e.event.TraceState, &data)
		if at.Valid {
			e.event.Time = at.Time.UTC()
		}
		e.event.Data = data
		return e, err
	})
}

// DeleteCustomer deletes, in tx, every event still waiting to be published
// on a subject that ends with customerID's token (the subjects of the
// event contract end with the customer id), and returns how many. A GDPR
// erasure calls it so that no copy of the customer's data outlives it in
// the outbox. The suffix is compared as a string, not a LIKE pattern, so
// escaped tokens (events.SubjectToken) match exactly.
func DeleteCustomer(ctx context.Context, tx pgx.Tx, customerID string) (int64, error) {
	return DeleteCustomerBefore(ctx, tx, customerID, time.Time{})
}

// DeleteCustomerBefore is DeleteCustomer for an erasure with a cut-off:
// when before is not zero, it deletes only the customer's events about
// orders placed up to before (their data's placed_at, or none), so that
// the events of an order placed after the erasure still go out.
func DeleteCustomerBefore(ctx context.Context, tx pgx.Tx, customerID string, before time.Time) (int64, error) {
	if !before.IsZero() {
		suffix := "." + events.SubjectToken(customerID)
		tag, err := tx.Exec(ctx, `DELETE FROM outbox WHERE right(subject, length($1)) = $1
			AND COALESCE((convert_from(data, 'UTF8')::jsonb ->> 'placed_at')::timestamptz, '-infinity') <= $2`,
			suffix, before)
		if err != nil {
			return 0, fmt.Errorf("outbox: delete events of a customer: %w", err)
		}
		return tag.RowsAffected(), nil
	}
	suffix := "." + events.SubjectToken(customerID)
	tag, err := tx.Exec(ctx, `DELETE FROM outbox WHERE right(subject, length($1)) = $1`, suffix)
	if err != nil {
		return 0, fmt.Errorf("outbox: delete events of a customer: %w", err)
	}
	return tag.RowsAffected(), nil
}
