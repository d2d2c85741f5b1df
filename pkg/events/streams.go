package events

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DuplicateWindow is how long JetStream remembers a Nats-Msg-Id: a
// republished event (outbox relay retry) within it is dropped. It must
// outlast the longest broker outage the outbox is expected to bridge
// without duplicates; consumers deduplicate with their inbox beyond it.
const DuplicateWindow = 20 * time.Minute

// Retention holds how long the streams keep messages, read from the
// environment (embedded in config.Service). ORDERS, INVENTORY and GDPR
// drop a message MaxAge after it was stored, whether consumed or not, so
// a consumer may be down for anything shorter and lose nothing. The DLQ
// keeps a dead letter DLQMaxAge, and refuses new ones once it holds
// DLQMaxBytes (discard new): a message that cannot be dead-lettered then
// stays in its stream, retried, until there is room.
type Retention struct {
	// MaxAge is the age limit of ORDERS, INVENTORY and GDPR messages.
	MaxAge time.Duration `env:"STREAM_MAX_AGE" envDefault:"168h"`
	// DLQMaxAge is the age limit of dead letters.
	DLQMaxAge time.Duration `env:"DLQ_MAX_AGE" envDefault:"720h"`
	// DLQMaxBytes is the size limit of the DLQ stream.
	DLQMaxBytes int64 `env:"DLQ_MAX_BYTES" envDefault:"1073741824"`
	// Replicas is how many servers of a JetStream cluster keep each
	// stream: 1 for a single server, 3 (or 5) in a cluster. A stream that
	// exists with another count is updated to it at the next start.
	Replicas int `env:"STREAM_REPLICAS" envDefault:"1"`
}

// DefaultRetention returns the Retention of an empty environment: 7 days,
// 30 days, 1 GiB and one replica.
func DefaultRetention() Retention {
	return Retention{MaxAge: 7 * 24 * time.Hour, DLQMaxAge: 30 * 24 * time.Hour, DLQMaxBytes: 1 << 30, Replicas: 1}
}

// Validate returns an error naming each variable out of range: the ages
// must be at least DuplicateWindow (JetStream requires the duplicate
// window to fit within the age limit), DLQ_MAX_BYTES positive and
// STREAM_REPLICAS from 1 to 5.
func (r Retention) Validate() error {
	var errs []error
	if r.MaxAge < DuplicateWindow {
		errs = append(errs, fmt.Errorf("STREAM_MAX_AGE %s: want at least the duplicate window, %s", r.MaxAge, DuplicateWindow))
	}
	if r.DLQMaxAge < DuplicateWindow {
		errs = append(errs, fmt.Errorf("DLQ_MAX_AGE %s: want at least the duplicate window, %s", r.DLQMaxAge, DuplicateWindow))
	}
	if r.DLQMaxBytes <= 0 {
		errs = append(errs, fmt.Errorf("DLQ_MAX_BYTES %d: want > 0", r.DLQMaxBytes))
	}
	if r.Replicas < 1 || r.Replicas > 5 {
		errs = append(errs, fmt.Errorf("STREAM_REPLICAS %d: want 1 to 5 (JetStream's range)", r.Replicas))
	}
	return errors.Join(errs...)
}

// LogValue logs the settings under stream_max_age, dlq_max_age (as text),
// dlq_max_bytes and stream_replicas.
func (r Retention) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("stream_max_age", r.MaxAge.String()),
		slog.String("dlq_max_age", r.DLQMaxAge.String()),
		slog.Int64("dlq_max_bytes", r.DLQMaxBytes),
		slog.Int("stream_replicas", r.Replicas),
	)
}

// Streams returns the configurations of the four streams: file storage,
// limits retention, r.Replicas replicas (one when unset), DuplicateWindow; ORDERS, INVENTORY and
// GDPR limited to r.MaxAge (GDPR erasure also purges a customer's
// subjects), the DLQ to r.DLQMaxAge and r.DLQMaxBytes with discard new, so
// that a full DLQ refuses a copy instead of dropping an older dead letter.
// Each call returns fresh values the caller may change (replicas for a
// cluster, say) before creating the streams.
func Streams(r Retention) []jetstream.StreamConfig {
	replicas := max(r.Replicas, 1)
	stream := func(name, desc string, subjects ...string) jetstream.StreamConfig {
		return jetstream.StreamConfig{
			Name:        name,
			Description: desc,
			Subjects:    subjects,
			Retention:   jetstream.LimitsPolicy,
			Storage:     jetstream.FileStorage,
			Discard:     jetstream.DiscardOld,
			Replicas:    replicas,
			Duplicates:  DuplicateWindow,
			MaxAge:      r.MaxAge,
		}
	}
	dlq := stream(StreamDLQ, "messages consumers gave up on, with the error in headers", "dlq.>")
	dlq.MaxAge, dlq.MaxBytes, dlq.Discard = r.DLQMaxAge, r.DLQMaxBytes, jetstream.DiscardNew
	return []jetstream.StreamConfig{
		stream(StreamOrders, "order lifecycle events, by customer", "orders.>"),
		stream(StreamInventory, "stock reservation results, by customer", "inventory.>"),
		stream(StreamGDPR, "erasure requests and each participant's completion", "gdpr.>"),
		dlq,
	}
}
