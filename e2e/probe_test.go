package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/e2e/launcher"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsauth"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

// The services' durable consumers (DESIGN.md): email, sms and inventory on
// ORDERS, order-inventory on INVENTORY.
const (
	emailConsumer          = "email"
	smsConsumer            = "sms"
	inventoryConsumer      = "inventory"
	orderInventoryConsumer = "order-inventory"
)

// eventually is servicetest.WaitEvery at 100 ms, with a fresh 5 s context
// for each check.
func eventually(t *testing.T, timeout time.Duration, what string, check func(ctx context.Context) (done bool, state string)) {
	t.Helper()
	servicetest.WaitEvery(t, timeout, 100*time.Millisecond, what, func() (bool, string) {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		return check(ctx)
	})
}

// jetStream connects to the system's NATS as the admin identity
// (reconnecting across restarts) for the duration of t.
func jetStream(t *testing.T, sys *launcher.System) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(sys.NATSUserURL(natsauth.UserAdmin), nats.Name("e2e-probe"),
		nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatalf("connect to NATS: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// streamMessages returns how many messages the stream holds, only on
// subjects matching filter when it is not empty.
func streamMessages(ctx context.Context, js jetstream.JetStream, stream, filter string) (uint64, error) {
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", stream, err)
	}
	if filter == "" {
		info, err := s.Info(ctx)
		if err != nil {
			return 0, fmt.Errorf("stream %s: %w", stream, err)
		}
		return info.State.Msgs, nil
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", stream, err)
	}
	var n uint64
	for _, count := range info.State.Subjects {
		n += count
	}
	return n, nil
}

// mustStreamMessages is streamMessages failing t on error.
func mustStreamMessages(t *testing.T, js jetstream.JetStream, stream, filter string) uint64 {
	t.Helper()
	n, err := streamMessages(t.Context(), js, stream, filter)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// consumerInfo returns the state of a durable consumer of stream.
func consumerInfo(ctx context.Context, js jetstream.JetStream, stream, name string) (*jetstream.ConsumerInfo, error) {
	c, err := js.Consumer(ctx, stream, name)
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w", name, err)
	}
	return c.Info(ctx)
}

// mustStreamSubjects returns the number of messages on each subject of the
// stream, failing t on error.
func mustStreamSubjects(t *testing.T, js jetstream.JetStream, stream string) map[string]uint64 {
	t.Helper()
	s, err := js.Stream(t.Context(), stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	info, err := s.Info(t.Context(), jetstream.WithSubjectFilter(">"))
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	return info.State.Subjects
}

// emailConsumerInfo returns the state of the email service's consumer.
func emailConsumerInfo(ctx context.Context, js jetstream.JetStream) (*jetstream.ConsumerInfo, error) {
	return consumerInfo(ctx, js, events.StreamOrders, emailConsumer)
}

// A settleStep is one place work can wait in: a service's outbox (events
// committed, not yet published) when consumer is "", else a durable
// consumer (messages not yet delivered, or delivered and not acknowledged,
// NAKed ones waiting for redelivery included).
type settleStep struct {
	service, stream, consumer string
}

func (st settleStep) String() string {
	if st.consumer == "" {
		return st.service + " outbox"
	}
	return "consumer " + st.consumer
}

// settleSteps returns the steps of the services sys runs, in the order of
// the event flow: orders.placed from the order outbox to the inventory,
// sms and email consumers; the inventory results from its outbox to the
// order-inventory consumer; orders.confirmed/rejected from the order
// outbox to the email consumer. Read in that order, a step found empty
// after every step upstream of it was found empty cannot receive work any
// more (as long as no order is placed meanwhile): what an upstream step
// handled was published (or put in an outbox read later) before it was
// acknowledged.
func settleSteps(sys *launcher.System) []settleStep {
	flow := []settleStep{
		{service: "order"},
		{service: "inventory", stream: events.StreamOrders, consumer: inventoryConsumer},
		{service: "sms", stream: events.StreamOrders, consumer: smsConsumer},
		{service: "inventory"},
		{service: "order", stream: events.StreamInventory, consumer: orderInventoryConsumer},
		{service: "order"},
		{service: "email", stream: events.StreamOrders, consumer: emailConsumer},
	}
	var steps []settleStep
	for _, st := range flow {
		if slices.Contains(sys.Services(), st.service) {
			steps = append(steps, st)
		}
	}
	return steps
}

// drained reads the steps in order and reports whether each was empty,
// with what it saw; it stops at the first that is not.
func drained(ctx context.Context, sys *launcher.System, js jetstream.JetStream, steps []settleStep) (bool, string) {
	var seen []string
	for _, st := range steps {
		var state string
		var empty bool
		if st.consumer == "" {
			n, err := countRows(ctx, sys.DatabaseURL(st.service), "outbox")
			if err != nil {
				return false, strings.Join(append(seen, fmt.Sprintf("%s: %v", st, err)), "; ")
			}
			state, empty = fmt.Sprintf("%s: %d rows", st, n), n == 0
		} else {
			info, err := consumerInfo(ctx, js, st.stream, st.consumer)
			if err != nil {
				return false, strings.Join(append(seen, fmt.Sprintf("%s: %v", st, err)), "; ")
			}
			state = fmt.Sprintf("%s: %d pending, %d awaiting ack, %d redelivered",
				st, info.NumPending, info.NumAckPending, info.NumRedelivered)
			empty = info.NumPending == 0 && info.NumAckPending == 0
		}
		seen = append(seen, state)
		if !empty {
			return false, strings.Join(seen, "; ")
		}
	}
	return true, strings.Join(seen, "; ")
}

// waitSettled waits until nothing is in flight anywhere (settleSteps): every
// event published and handled for good by every consumer, the apologies
// for rejected orders included. A mail, SMS or stock count taken after it
// is final.
func waitSettled(t *testing.T, sys *launcher.System, timeout time.Duration) {
	t.Helper()
	waitDrained(t, sys, timeout, settleSteps(sys)...)
}

// waitDrained waits until the given steps, read in their order, are all
// empty at once.
func waitDrained(t *testing.T, sys *launcher.System, timeout time.Duration, steps ...settleStep) {
	t.Helper()
	js := jetStream(t, sys)
	names := make([]string, len(steps))
	for i, st := range steps {
		names[i] = st.String()
	}
	eventually(t, timeout, "drained: "+strings.Join(names, ", "), func(ctx context.Context) (bool, string) {
		return drained(ctx, sys, js, steps)
	})
}

// countRows returns the number of rows of table in the database at url.
func countRows(ctx context.Context, url, table string) (int64, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var n int64
	err = conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", table, err)
	}
	return n, nil
}

// storedRows returns the row count of every table of a service's database
// but the migration tools' own (goose_*).
func storedRows(t *testing.T, sys *launcher.System, service string) map[string]int64 {
	t.Helper()
	ctx := t.Context()
	url := sys.DatabaseURL(service)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect to %s's database: %v", service, err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'goose%'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) == 0 {
		t.Fatalf("%s's database has no tables", service)
	}
	counts := make(map[string]int64, len(tables))
	for _, table := range tables {
		if counts[table], err = countRows(ctx, url, table); err != nil {
			t.Fatal(err)
		}
	}
	return counts
}
