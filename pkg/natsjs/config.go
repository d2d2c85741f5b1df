package natsjs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderbus/orderbus/pkg/telemetry"
)

// Defaults of ConsumerConfig.
const (
	DefaultAckWait        = 30 * time.Second
	DefaultHandlerTimeout = 30 * time.Second
	DefaultConcurrency    = 8
	DefaultPauseAfter     = 5
	DefaultProbeInterval  = 2 * time.Second
)

// Probe checks that a dependency answers again; it returns nil when the
// consumer may resume fetching. It must honour ctx.
type Probe func(ctx context.Context) error

// DefaultBackOff returns the default NAK delays by delivery: 1s, 2s, 5s,
// 10s, 30s, then 1m for every later delivery.
func DefaultBackOff() []time.Duration {
	return []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute}
}

// ConsumerConfig configures a durable pull consumer and its runner. Zero
// fields take the documented defaults.
type ConsumerConfig struct {
	// Stream is the stream to consume (required).
	Stream string
	// Durable names the consumer (required; no '.', '*', '>' or spaces).
	// JetStream keeps the consumer's position under this name: renaming it
	// creates a new consumer, which starts with new messages (or the whole
	// stream, with ReplayHistory), and leaves the old one behind.
	Durable string
	// FilterSubjects limits the consumer to these subjects; empty means all
	// of the stream.
	FilterSubjects []string
	// AckWait is how long JetStream waits for an acknowledgement before it
	// redelivers (default 30s). It is raised to at least HandlerTimeout
	// plus a margin (half of HandlerTimeout, at most 5s), so a handler
	// always meets its deadline before its message could be redelivered;
	// the runner also sends InProgress every AckWait/3 while a message is
	// held, queued or running, so it stays with this instance.
	AckWait time.Duration
	// HandlerTimeout bounds one handler call (default 30s): its ctx is
	// canceled then, and a call that fails after its deadline counts as a
	// transient failure, retried like any other. The handler must return
	// once its ctx is done.
	HandlerTimeout time.Duration
	// PauseAfter is how many transient failures in a row make the consumer
	// stop fetching until a probe passes (default 5).
	PauseAfter int
	// Probes check the dependencies named by Unavailable errors, by name.
	// While paused, the runner calls the probe of the dependency that
	// failed every ProbeInterval; with no probe for it, it lets one
	// message through instead.
	Probes map[string]Probe
	// ProbeInterval is the pause between probes while paused (default 2s).
	ProbeInterval time.Duration
	// ReplayHistory makes a newly created durable start at the first
	// message of the stream; by default it receives only messages
	// published after it is created. An existing durable keeps its position.
	ReplayHistory bool
	// BackOff holds the NAK delay after a transient failure of the n-th
	// delivery at index n-1; the last one repeats (default DefaultBackOff).
	BackOff []time.Duration
	// Batch is the most messages fetched in one request and held at once,
	// queued or running (default Concurrency, so that every message held
	// starts at once and a stop or crash releases no unstarted backlog).
	Batch int
	// Concurrency is how many handlers run at once (default 8).
	Concurrency int
	// Logger receives the runner's logs (default: discarded).
	Logger *slog.Logger
	// Metrics, when set, receives the orderbus_consumer_* metrics, labelled
	// by durable; consumers may share one Registerer.
	Metrics prometheus.Registerer
	// Telemetry, when on, records a consumer span per delivery, a child of
	// the trace context the message carries, and gives the handler a ctx
	// carrying it (see tracing.go); nil or off records nothing.
	Telemetry *telemetry.Telemetry
	// DeadLetters, when set, is asked before each dead-letter copy whether
	// the copy must not be stored (see DeadLetterGuard).
	DeadLetters DeadLetterGuard
}

// setDefaults fills the zero fields with their defaults.
func (c *ConsumerConfig) setDefaults() {
	if c.AckWait == 0 {
		c.AckWait = DefaultAckWait
	}
	if c.HandlerTimeout == 0 {
		c.HandlerTimeout = DefaultHandlerTimeout
	}
	if c.HandlerTimeout > 0 {
		c.AckWait = max(c.AckWait, c.HandlerTimeout+min(c.HandlerTimeout/2, 5*time.Second))
	}
	if c.PauseAfter == 0 {
		c.PauseAfter = DefaultPauseAfter
	}
	if c.ProbeInterval == 0 {
		c.ProbeInterval = DefaultProbeInterval
	}
	if len(c.BackOff) == 0 {
		c.BackOff = DefaultBackOff()
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Batch == 0 {
		c.Batch = c.Concurrency
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports every invalid field of a defaulted config, joined.
func (c *ConsumerConfig) Validate() error {
	var errs []error
	if c.Stream == "" {
		errs = append(errs, errors.New("stream is required"))
	}
	if c.Durable == "" || strings.ContainsAny(c.Durable, ".*> \t\r\n") {
		errs = append(errs, fmt.Errorf("durable %q must be a non-empty name without '.', '*', '>' or spaces", c.Durable))
	}
	if c.AckWait < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("ack wait %v is below 100ms", c.AckWait))
	}
	if c.HandlerTimeout <= 0 {
		errs = append(errs, fmt.Errorf("handler timeout %v is not positive", c.HandlerTimeout))
	}
	if c.PauseAfter < 1 {
		errs = append(errs, fmt.Errorf("pause after %d is below 1", c.PauseAfter))
	}
	if c.ProbeInterval <= 0 {
		errs = append(errs, fmt.Errorf("probe interval %v is not positive", c.ProbeInterval))
	}
	for i, d := range c.BackOff {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("backoff[%d] %v is not positive", i, d))
		}
	}
	if c.Batch < 1 {
		errs = append(errs, fmt.Errorf("batch %d is below 1", c.Batch))
	}
	if c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("concurrency %d is below 1", c.Concurrency))
	}
	return errors.Join(errs...)
}

// serverConfig is the JetStream consumer configuration.
//
// MaxDeliver is unlimited: the runner alone decides when a message is
// dead-lettered (a permanent error, once its DLQ copy is stored), so the
// server never drops a message silently.
//
// MaxAckPending is Batch plus retryWindow: the runner holds at most Batch
// messages, and the rest of the window lets NAKed messages wait out their
// delay without stalling fresh ones.
//
// DeliverPolicy applies to a newly created durable only: ensure keeps an
// existing durable's policy and start position.
func (c *ConsumerConfig) serverConfig() jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:        c.Durable,
		Description:    "orderbus natsjs runner",
		DeliverPolicy:  c.deliverPolicy(),
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        c.AckWait,
		MaxDeliver:     -1,
		MaxAckPending:  c.Batch + retryWindow,
		FilterSubjects: c.FilterSubjects,
	}
}

// retryWindow is how many messages may wait out a retry delay on the
// server beyond the ones the runner holds.
const retryWindow = 1000

// deliverPolicy is where a newly created durable starts.
func (c *ConsumerConfig) deliverPolicy() jetstream.DeliverPolicy {
	if c.ReplayHistory {
		return jetstream.DeliverAllPolicy
	}
	return jetstream.DeliverNewPolicy
}

// backoff returns the NAK delay after the failure of delivery n (1-based).
func (c *ConsumerConfig) backoff(n uint64) time.Duration {
	i := int(min(n, uint64(len(c.BackOff)))) - 1
	return c.BackOff[max(i, 0)]
}
