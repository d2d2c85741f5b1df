package natsjs_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

// BenchmarkPublish measures JetStream's own limit for the events the
// services publish, as pgbench measures PostgreSQL's: nats-server with
// sync_interval: always (every stored message fsynced before its
// PubAck, as deployed), one publisher, with 1, 8 and 32 publishes in
// flight (Publisher.PublishAsync, the oldest awaited when the window is
// full). One op is one event stored.
func BenchmarkPublish(b *testing.B) {
	ctx := context.Background()
	_, js := natstest.Connect(b, natstest.StartDurable(b))
	pub := natsjs.NewPublisher(js)
	ev, err := events.New("/bench", events.TypeOrderPlaced, "o", events.OrderPlaced{OrderID: "o"})
	if err != nil {
		b.Fatal(err)
	}
	for _, window := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("in-flight-%d", window), func(b *testing.B) {
			before := servicetest.StreamLen(b, js, events.StreamOrders)
			var inFlight []*natsjs.Pending
			n := 0
			for b.Loop() {
				n++
				e := ev
				e.ID = fmt.Sprintf("%s-%d-%d", ev.ID, window, n) // a new Nats-Msg-Id: stored, not deduplicated
				p, err := pub.PublishAsync(events.OrderPlacedSubject("c"), e)
				if err != nil {
					b.Fatal(err)
				}
				if inFlight = append(inFlight, p); len(inFlight) == window {
					if err := inFlight[0].Wait(ctx); err != nil {
						b.Fatal(err)
					}
					inFlight = inFlight[1:]
				}
			}
			for _, p := range inFlight {
				if err := p.Wait(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
			if got := servicetest.StreamLen(b, js, events.StreamOrders) - before; got != uint64(n) {
				b.Fatalf("stream stored %d events, want %d", got, n)
			}
		})
	}
}
