package natsjs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderbus/orderbus/pkg/telemetry"
)

// Subscription is one durable consumer of a service and the handler of
// each event type it receives: a service lists its subscriptions in one
// place (its subscriptions.go) and builds each Consumer from one.
//
// Renaming Durable creates a new consumer, which starts with the messages
// published after it is created (unless ConsumerSettings.Start is "all");
// adding a Route (a filter) updates the consumer in place and keeps its
// position.
type Subscription struct {
	Stream  string
	Durable string
	Routes  []Route
	// Probes become the consumer's ConsumerConfig.Probes: by dependency
	// name, the checks the runner calls while the consumer is paused.
	Probes map[string]Probe
	// DeadLetters becomes the consumer's ConsumerConfig.DeadLetters.
	DeadLetters DeadLetterGuard
}

// Route handles the events of one CloudEvents type, which arrive on the
// subjects matched by Filter. Several routes may share a filter.
type Route struct {
	Filter  string
	Type    string
	Handler Handler
}

// Filters returns the routes' subject filters, each once, in order.
func (s Subscription) Filters() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range s.Routes {
		if !seen[r.Filter] {
			seen[r.Filter] = true
			out = append(out, r.Filter)
		}
	}
	return out
}

// Handler dispatches each message to the route of its ce-type. A type
// without a route is a permanent failure: it goes to the DLQ rather than
// being dropped, so a producer's new event type is noticed, and can be
// replayed once a route handles it.
func (s Subscription) Handler() Handler {
	byType := make(map[string]Handler, len(s.Routes))
	for _, r := range s.Routes {
		byType[r.Type] = r.Handler
	}
	return func(ctx context.Context, msg Message) error {
		h, ok := byType[msg.Event.Type]
		if !ok {
			return Permanent(fmt.Errorf("consumer %s: no handler for event type %q on %s",
				s.Durable, msg.Event.Type, msg.Subject))
		}
		return h(ctx, msg)
	}
}

// ConsumerSettings are the consumer knobs every consuming service reads
// from its environment; embed it in the service's config struct.
type ConsumerSettings struct {
	// Concurrency bounds the handlers running at once.
	Concurrency int `env:"CONSUMER_CONCURRENCY" envDefault:"8"`
	// BackOff is the NAK delay by delivery; the last one repeats, so it
	// caps the delay (a transient failure is retried for as long as it takes).
	BackOff []time.Duration `env:"CONSUMER_BACKOFF" envDefault:"1s,2s,5s,10s,30s,1m" envSeparator:","`
	// HandlerTimeout bounds one handler call.
	HandlerTimeout time.Duration `env:"CONSUMER_HANDLER_TIMEOUT" envDefault:"30s"`
	// PauseAfter is how many transient failures in a row pause fetching.
	PauseAfter int `env:"CONSUMER_PAUSE_AFTER" envDefault:"5"`
	// ProbeInterval is the pause between dependency probes while paused.
	ProbeInterval time.Duration `env:"CONSUMER_PROBE_INTERVAL" envDefault:"2s"`
	// Start is where a newly created durable begins: "new" (messages
	// published after it is created) or "all" (the whole stream).
	Start string `env:"CONSUMER_START" envDefault:"new"`
}

// Validate reports every setting that ConsumerConfig would refuse,
// joined, naming the environment variables.
func (c ConsumerSettings) Validate() error {
	var errs []error
	if c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("CONSUMER_CONCURRENCY must be at least 1, got %d", c.Concurrency))
	}
	if c.HandlerTimeout <= 0 {
		errs = append(errs, fmt.Errorf("CONSUMER_HANDLER_TIMEOUT must be positive, got %v", c.HandlerTimeout))
	}
	if c.PauseAfter < 1 {
		errs = append(errs, fmt.Errorf("CONSUMER_PAUSE_AFTER must be at least 1, got %d", c.PauseAfter))
	}
	if c.ProbeInterval <= 0 {
		errs = append(errs, fmt.Errorf("CONSUMER_PROBE_INTERVAL must be positive, got %v", c.ProbeInterval))
	}
	if c.Start != "new" && c.Start != "all" {
		errs = append(errs, fmt.Errorf("CONSUMER_START must be new or all, got %q", c.Start))
	}
	if len(c.BackOff) == 0 {
		errs = append(errs, errors.New("CONSUMER_BACKOFF must list at least one duration"))
	}
	for _, d := range c.BackOff {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("CONSUMER_BACKOFF durations must be positive, got %v", d))
			break
		}
	}
	return errors.Join(errs...)
}

// LogValue logs the settings under the keys consumer_concurrency,
// consumer_handler_timeout, consumer_pause_after, consumer_probe_interval,
// consumer_start and consumer_backoff (durations as text). A service's
// own LogValue can inline it as an attribute with an empty key.
func (c ConsumerSettings) LogValue() slog.Value {
	backoff := make([]string, len(c.BackOff))
	for i, d := range c.BackOff {
		backoff[i] = d.String()
	}
	return slog.GroupValue(
		slog.Int("consumer_concurrency", c.Concurrency),
		slog.String("consumer_handler_timeout", c.HandlerTimeout.String()),
		slog.Int("consumer_pause_after", c.PauseAfter),
		slog.String("consumer_probe_interval", c.ProbeInterval.String()),
		slog.String("consumer_start", c.Start),
		slog.Any("consumer_backoff", backoff),
	)
}

// ConsumerConfig returns the configuration of s's consumer with the given
// settings, AckWait (above the handler's worst case), logger and metrics.
func (s Subscription) ConsumerConfig(set ConsumerSettings, ackWait time.Duration, logger *slog.Logger, reg prometheus.Registerer) ConsumerConfig {
	return ConsumerConfig{
		Stream:         s.Stream,
		Durable:        s.Durable,
		FilterSubjects: s.Filters(),
		AckWait:        ackWait,
		Probes:         s.Probes,
		HandlerTimeout: set.HandlerTimeout,
		PauseAfter:     set.PauseAfter,
		ProbeInterval:  set.ProbeInterval,
		ReplayHistory:  set.Start == "all",
		BackOff:        set.BackOff,
		Concurrency:    set.Concurrency,
		Logger:         logger.With("consumer", s.Durable),
		Metrics:        reg,
		DeadLetters:    s.DeadLetters,
	}
}

// NewConsumers creates one Consumer per subscription, in the order of
// subs, each with s.ConsumerConfig(set, ackWait, logger, reg) and
// s.Handler(), traced with tel (nil: not traced): a service's consumers,
// ready to Run. It stops at the first
// error NewConsumer returns and returns it as is (it names the durable).
// The consumers created before it are dropped: a Consumer holds no
// resource before Run, and its durable stays on the server, as it would
// after Run.
func NewConsumers(ctx context.Context, js jetstream.JetStream, subs []Subscription, set ConsumerSettings,
	ackWait time.Duration, logger *slog.Logger, reg prometheus.Registerer, tel *telemetry.Telemetry) ([]*Consumer, error) {
	consumers := make([]*Consumer, 0, len(subs))
	for _, s := range subs {
		cfg := s.ConsumerConfig(set, ackWait, logger, reg)
		cfg.Telemetry = tel
		c, err := NewConsumer(ctx, js, cfg, s.Handler())
		if err != nil {
			return nil, err
		}
		consumers = append(consumers, c)
	}
	return consumers, nil
}
