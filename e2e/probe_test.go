package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/e2e/launcher"
	"github.com/orderbus/orderbus/pkg/events"
)

// The email service's durable consumer of the ORDERS stream.
const emailConsumer = "email"

// eventually calls check every 100 ms until it reports done, and fails t
// when timeout passes, with the state check last described.
func eventually(t *testing.T, timeout time.Duration, what string, check func(ctx context.Context) (done bool, state string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		done, state := check(ctx)
		cancel()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %v; last seen: %s", what, timeout, state)
		}
		<-tick.C
	}
}

// jetStream connects to the system's NATS (reconnecting across restarts)
// for the duration of t.
func jetStream(t *testing.T, sys *launcher.System) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(sys.NATS().URL(), nats.Name("e2e-probe"),
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

// emailConsumerInfo returns the state of the email service's consumer.
func emailConsumerInfo(ctx context.Context, js jetstream.JetStream) (*jetstream.ConsumerInfo, error) {
	c, err := js.Consumer(ctx, events.StreamOrders, emailConsumer)
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w", emailConsumer, err)
	}
	return c.Info(ctx)
}

// waitSettled waits until nothing is in flight: the order service's outbox
// is empty (every event published) and the email consumer has neither
// undelivered nor unacknowledged messages (every event handled for good).
// A mail count taken after it is final.
func waitSettled(t *testing.T, sys *launcher.System, timeout time.Duration) {
	t.Helper()
	js := jetStream(t, sys)
	eventually(t, timeout, "system settled", func(ctx context.Context) (bool, string) {
		outbox, err := countRows(ctx, sys.DatabaseURL("order"), "outbox")
		if err != nil {
			return false, err.Error()
		}
		info, err := emailConsumerInfo(ctx, js)
		if err != nil {
			return false, fmt.Sprintf("outbox %d rows; %v", outbox, err)
		}
		state := fmt.Sprintf("outbox %d rows; consumer %s: %d pending, %d awaiting ack, %d redelivered",
			outbox, emailConsumer, info.NumPending, info.NumAckPending, info.NumRedelivered)
		return outbox == 0 && info.NumPending == 0 && info.NumAckPending == 0, state
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
