package outbox_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
	"github.com/orderbus/orderbus/pkg/outbox"
)

// BenchmarkEnqueueAndPublish measures what a request that publishes pays
// beyond its own business rows: the outbox insert in its transaction, the
// commit, then the publish of that row with its PubAck and the delete.
// nats-server runs with sync_interval: always, as deployed; the test
// cluster runs with fsync off, so PostgreSQL's disk flush is not in it.
// Run with -cpu to vary the concurrent requests (b.RunParallel).
func BenchmarkEnqueueAndPublish(b *testing.B) {
	ctx := context.Background()
	_, js := natstest.Connect(b, natstest.StartDurable(b))
	pool := cluster.NewPool(b, outbox.Migrations())
	relay, err := outbox.NewRelay(outbox.RelayConfig{
		Pool: pool, Publisher: natsjs.NewPublisher(js), Logger: slog.New(slog.DiscardHandler), Interval: time.Hour,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ev, err := events.New("/bench", events.TypeOrderPlaced, "o", events.OrderPlaced{OrderID: "o"})
			if err != nil {
				b.Fatal(err)
			}
			err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				return outbox.Enqueue(ctx, tx, events.OrderPlacedSubject("c"), ev)
			})
			if err != nil {
				b.Fatal(err)
			}
			if err := relay.Publish(ctx, ev.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	stream, err := js.Stream(ctx, events.StreamOrders)
	if err != nil {
		b.Fatal(err)
	}
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(">"))
	if err != nil {
		b.Fatal(err)
	}
	if got := info.State.Msgs; got != uint64(b.N) {
		b.Fatalf("stream holds %d messages, want %d", got, b.N)
	}
}
