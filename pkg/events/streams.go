package events

import (
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DuplicateWindow is how long JetStream remembers a Nats-Msg-Id: a
// republished event (outbox relay retry) within it is dropped. It must
// outlast the longest broker outage the outbox is expected to bridge
// without duplicates; consumers deduplicate with their inbox beyond it.
const DuplicateWindow = 20 * time.Minute

// DLQMaxAge is how long dead-lettered messages are kept for inspection and replay.
const DLQMaxAge = 30 * 24 * time.Hour

// Streams returns the configurations of the four streams: file storage,
// limits retention, one replica, DuplicateWindow, and the DLQ limited to
// DLQMaxAge. The other streams keep messages until purged (GDPR erasure
// purges a customer's subjects). Each call returns fresh values the caller
// may change (replicas for a cluster, say) before creating the streams.
func Streams() []jetstream.StreamConfig {
	stream := func(name, desc string, subjects ...string) jetstream.StreamConfig {
		return jetstream.StreamConfig{
			Name:        name,
			Description: desc,
			Subjects:    subjects,
			Retention:   jetstream.LimitsPolicy,
			Storage:     jetstream.FileStorage,
			Discard:     jetstream.DiscardOld,
			Replicas:    1,
			Duplicates:  DuplicateWindow,
		}
	}
	dlq := stream(StreamDLQ, "messages consumers gave up on, with the error in headers", "dlq.>")
	dlq.MaxAge = DLQMaxAge
	return []jetstream.StreamConfig{
		stream(StreamOrders, "order lifecycle events, by customer", "orders.>"),
		stream(StreamInventory, "stock reservation results, by customer", "inventory.>"),
		stream(StreamGDPR, "erasure requests and each participant's completion", "gdpr.>"),
		dlq,
	}
}
