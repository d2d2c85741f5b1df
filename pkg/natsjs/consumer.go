package natsjs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
)

// Message is what a Handler receives: the parsed event and where it came from.
type Message struct {
	// Event is the CloudEvents event, already parsed and validated.
	Event events.Event
	// Subject is the NATS subject the message was published on.
	Subject string
	// NumDelivered counts deliveries of this message, this one included (1 on the first).
	NumDelivered uint64
	// StreamSeq is the message's sequence in its stream.
	StreamSeq uint64
}

// Handler handles one message. Returning nil acknowledges it. Returning an
// error made by Permanent, or wrapping events.ErrMalformed (a payload that
// does not decode), copies it to the DLQ and terminates it. Any other error
// is transient: the message is NAKed with the BackOff delay for its
// delivery count and redelivered, until MaxDeliver deliveries, after which
// it is dead-lettered. A panic counts as a transient error.
//
// The same message can be delivered more than once (a lost ack, a crash, a
// restart of the server), so a handler must be idempotent. Its ctx is not
// canceled when Run is asked to stop, so that it can commit; a handler
// must bound its own work with timeouts.
type Handler func(ctx context.Context, msg Message) error

// Consumer runs a Handler on a durable JetStream pull consumer.
type Consumer struct {
	js      jetstream.JetStream
	cfg     ConsumerConfig
	handler Handler
	cons    jetstream.Consumer
	log     *slog.Logger
	metrics *metrics
	running atomic.Bool
	created atomic.Bool // the durable exists on the server: set by ensure

	// Fetch tuning, set in one place by NewConsumer.
	fetchWait      time.Duration // one pull request's lifetime; bounds a fetch lost to an outage
	fetchHeartbeat time.Duration // idle heartbeat asked of the server; 2 missed = failed fetch
	maxRetryDelay  time.Duration // cap of the pause between failed fetches
}

// NewConsumer applies cfg's defaults, validates it, registers the metrics
// and creates the durable consumer, or updates it to cfg when it exists
// (explicit ack; see ConsumerConfig for the server-side settings). Renaming
// cfg.Durable creates a new consumer that reads the whole stream again. It
// returns an error for an invalid cfg or nil h, a metrics registration
// conflict, or when JetStream refuses the consumer's configuration. When
// JetStream cannot be reached, or the stream does not exist yet, it
// returns the Consumer all the same, and Run creates the durable once it
// can (see EnsureStreams and StreamSetup).
func NewConsumer(ctx context.Context, js jetstream.JetStream, cfg ConsumerConfig, h Handler) (*Consumer, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new consumer %s: %w", cfg.Durable, err)
	}
	if h == nil {
		return nil, fmt.Errorf("new consumer %s: handler is nil", cfg.Durable)
	}
	m, err := newMetrics(cfg.Metrics, cfg.Durable)
	if err != nil {
		return nil, fmt.Errorf("new consumer %s: %w", cfg.Durable, err)
	}
	c := &Consumer{
		js:             js,
		cfg:            cfg,
		handler:        h,
		log:            cfg.Logger.With("stream", cfg.Stream, "durable", cfg.Durable),
		metrics:        m,
		fetchWait:      5 * time.Second,
		fetchHeartbeat: time.Second,
		maxRetryDelay:  2 * time.Second,
	}
	if !js.Conn().IsConnected() {
		// Asking would only wait for the request timeout; Run creates the
		// consumer once the connection is up.
		c.log.Warn("nats not connected; the consumer is created once it is")
		return c, nil
	}
	if err := c.ensure(ctx); err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return nil, err // the server refused the configuration
		}
		// JetStream is unreachable, or the stream is not created yet (the
		// service creating it may start later): start anyway; Run creates
		// the consumer once it can, so neither stops a start.
		c.log.Warn("cannot create the consumer yet; Run will retry", "error", err)
	}
	return c, nil
}

// ensure creates or updates the durable consumer on the server.
func (c *Consumer) ensure(ctx context.Context) error {
	cons, err := c.js.CreateOrUpdateConsumer(ctx, c.cfg.Stream, c.cfg.serverConfig())
	if err != nil {
		return fmt.Errorf("create consumer %s on %s: %w", c.cfg.Durable, c.cfg.Stream, err)
	}
	c.cons = cons
	c.created.Store(true)
	return nil
}

// Created reports whether the durable consumer has been created (or
// found) on the server, so that messages published from now on reach it.
// It stays false while NewConsumer or Run could not reach JetStream.
func (c *Consumer) Created() bool { return c.created.Load() }

// Run fetches messages in batches and runs the handler on them, at most
// Concurrency at once, until ctx is done. Then it stops fetching, NAKs the
// messages fetched but not started (another instance takes them at once),
// lets the running handlers finish and settle their messages (their ctx
// is not canceled), flushes the acknowledgements and returns nil.
//
// While JetStream is unreachable or the consumer is missing, Run keeps
// retrying (logging at warn, pausing up to 2s between attempts, and
// recreating the consumer if it was deleted); it returns an error only
// when the connection is closed for good or Run is already running.
// Messages fetched are kept alive with InProgress every AckWait/3 until
// they are settled, so a slow handler is not redelivered elsewhere.
func (c *Consumer) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return fmt.Errorf("run consumer %s: already running", c.cfg.Durable)
	}
	defer c.running.Store(false)

	r := &runner{
		c:     c,
		work:  make(chan *delivery, c.cfg.Batch),
		freed: make(chan struct{}, 1),
	}
	hctx := context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	for range c.cfg.Concurrency {
		wg.Go(func() {
			for d := range r.work {
				r.handle(ctx, hctx, d)
			}
		})
	}
	c.log.Info("consumer running", "batch", c.cfg.Batch, "concurrency", c.cfg.Concurrency)
	err := r.fetchLoop(ctx)
	close(r.work)
	wg.Wait()
	if ferr := c.js.Conn().FlushTimeout(2 * time.Second); ferr != nil && !c.js.Conn().IsClosed() {
		c.log.Warn("flush acknowledgements on stop", "error", ferr)
	}
	c.log.Info("consumer stopped")
	return err
}
