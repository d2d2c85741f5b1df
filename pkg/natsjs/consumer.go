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

// Handler handles one message under a deadline (ctx, canceled after
// ConsumerConfig.HandlerTimeout). Returning nil acknowledges the message.
// Returning an error made by Permanent, or wrapping events.ErrMalformed (a
// payload that does not decode), copies it to the DLQ at once and
// terminates it once the copy is stored. Any other error is transient, and
// so are a panic and any error returned after the deadline: the message is
// NAKed with the BackOff delay for its delivery count (the last delay
// repeats) and retried for as long as it takes; no delivery count ever
// dead-letters it. Mark a dependency's outage with Unavailable, so that a
// run of them pauses the consumer (see ConsumerConfig.PauseAfter). See the
// README, "How nothing gets lost".
//
// The same message can be delivered more than once (a lost ack, a crash, a
// restart of the server), so a handler must be idempotent. Its ctx is not
// canceled when Run is asked to stop, so that it can commit; only its
// deadline cancels it, and it must return then.
type Handler func(ctx context.Context, msg Message) error

// Consumer runs a Handler on a durable JetStream pull consumer.
type Consumer struct {
	js      jetstream.JetStream
	cfg     ConsumerConfig
	handler Handler
	cons    jetstream.Consumer
	log     *slog.Logger
	metrics *metrics
	br      *breaker
	running atomic.Bool
	created atomic.Bool  // the durable exists on the server: set by ensure
	seen    atomic.Int64 // when the durable was last known to exist, in Unix ns
	started time.Time    // when NewConsumer was called

	// Fetch tuning, set in one place by NewConsumer.
	fetchWait      time.Duration // one pull request's lifetime; bounds a fetch lost to an outage
	fetchHeartbeat time.Duration // idle heartbeat asked of the server; 2 missed = failed fetch
	maxRetryDelay  time.Duration // cap of the pause between failed fetches
}

// NewConsumer applies cfg's defaults, validates it, registers the metrics
// and creates the durable consumer, or updates an existing one to cfg
// while keeping its position (see ConsumerConfig for the server-side
// settings). A newly created durable starts with the messages published
// from then on, unless cfg.ReplayHistory; if Run creates it later (see
// below), with the messages stored since NewConsumer was called. It returns an error for an
// invalid cfg or nil h, a metrics registration conflict, or when
// JetStream refuses the consumer's configuration. When JetStream cannot
// be reached, or the stream does not exist yet (the service creating it
// may start later; this is logged at debug only), it returns the Consumer
// all the same, and Run creates the durable once it can (see
// EnsureStreams and StreamSetup).
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
	log := cfg.Logger.With("stream", cfg.Stream, "durable", cfg.Durable)
	c := &Consumer{
		js:             js,
		cfg:            cfg,
		handler:        h,
		log:            log,
		metrics:        m,
		br:             newBreaker(cfg.PauseAfter, log, m),
		started:        time.Now(),
		fetchWait:      5 * time.Second,
		fetchHeartbeat: time.Second,
		maxRetryDelay:  2 * time.Second,
	}
	m.dlqDepth.add(cfg.Durable, js)
	if !js.Conn().IsConnected() {
		// Asking would only wait for the request timeout; Run creates the
		// consumer once the connection is up.
		c.log.Info("nats not connected yet; the consumer is created once it is")
		return c, nil
	}
	if err := c.ensure(ctx, true); err != nil {
		var apiErr *jetstream.APIError
		switch {
		case errors.Is(err, jetstream.ErrStreamNotFound):
			// The service creating the stream may start moments later.
			c.log.Debug("stream not created yet; Run creates the consumer once it exists")
		case errors.As(err, &apiErr):
			return nil, err // the server refused the configuration
		default:
			c.log.Warn("cannot create the consumer yet; Run will retry", "error", err)
		}
	}
	return c, nil
}

// Created reports whether the durable consumer exists on the server, so
// that messages published from now on reach it. It is false until
// NewConsumer or Run could create it, and again while Run finds it (or
// its stream) missing, until Run has recreated it.
func (c *Consumer) Created() bool { return c.created.Load() }

// Paused reports whether the consumer has stopped fetching after a run of
// transient failures (see ConsumerConfig.PauseAfter), which dependency
// failed, and since when. It is false while Run is not running.
func (c *Consumer) Paused() (dependency string, since time.Time, paused bool) {
	state, dep, _, since := c.br.status()
	if state == circuitClosed {
		return "", time.Time{}, false
	}
	return dep, since, true
}

// Run fetches messages and runs the handler on them, at most Concurrency
// at once and holding no more than Batch, until ctx is done. Then it stops
// fetching, NAKs the messages fetched but not started (another instance
// takes them at once; a redelivery costs nothing), lets the running
// handlers finish and settle their messages (their ctx is not canceled,
// only their deadline cancels it), flushes the acknowledgements and
// returns nil.
//
// After PauseAfter transient failures in a row it pauses: it stops
// fetching, releases the messages it holds but has not started, and
// resumes once the failing dependency's Probe passes, or, with no probe
// for it, once a single trial message succeeds (one every ProbeInterval).
// The pause is logged when it starts and ends, shown by Paused and
// PausedCheck, and exported as orderbus_consumer_paused.
//
// While JetStream is unreachable, or the stream or the durable is
// missing, Run keeps retrying (pausing up to 2s between attempts) and
// recreates the durable once its stream exists; it returns an error only
// when the connection is closed for good or Run is already running.
// Messages fetched are kept alive with InProgress every AckWait/3 until
// they are settled, so a queued or slow one is not redelivered elsewhere.
func (c *Consumer) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return fmt.Errorf("run consumer %s: already running", c.cfg.Durable)
	}
	defer c.running.Store(false)
	defer c.br.reset()

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
	c.log.Info("consumer running", "batch", c.cfg.Batch, "concurrency", c.cfg.Concurrency,
		"handler_timeout", c.cfg.HandlerTimeout.String())
	err := r.fetchLoop(ctx)
	close(r.work)
	wg.Wait()
	if ferr := c.js.Conn().FlushTimeout(2 * time.Second); ferr != nil && !c.js.Conn().IsClosed() {
		c.log.Warn("flush acknowledgements on stop", "error", ferr)
	}
	c.log.Info("consumer stopped")
	return err
}
