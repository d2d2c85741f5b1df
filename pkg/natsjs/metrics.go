package natsjs

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of a delivery, the outcome label of orderbus_consumer_messages_total.
const (
	outcomeAcked            = "acked"              // handler succeeded
	outcomeRetried          = "retried"            // NAKed with a delay after a transient failure
	outcomeDeadLettered     = "dead_lettered"      // copied to the DLQ, then terminated
	outcomeDeadLetterFailed = "dead_letter_failed" // DLQ copy failed; NAKed to try again
	outcomeReleased         = "released"           // fetched but not started before shutdown; NAKed
)

// Reasons for dead-lettering, the reason label of orderbus_consumer_dead_letters_total
// and the Orderbus-Reason header.
const (
	reasonPermanent = "permanent"
	reasonExhausted = "exhausted"
	reasonMalformed = "malformed"
)

// metrics are one consumer's instruments, curried with its durable name.
type metrics struct {
	messages    *prometheus.CounterVec // by outcome
	deadLetters *prometheus.CounterVec // by reason
	panics      prometheus.Counter
	fetchErrors prometheus.Counter
	inFlight    prometheus.Gauge
	duration    prometheus.Observer
}

// newMetrics registers the consumer metrics with reg (nil: unregistered
// instruments) and returns the ones labelled with durable. Several
// consumers may share reg: already registered vectors are reused.
func newMetrics(reg prometheus.Registerer, durable string) (*metrics, error) {
	l := []string{"durable"}
	messages, err := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orderbus_consumer_messages_total",
		Help: "Deliveries handled by the consumer runner, by outcome (acked, retried, dead_lettered, dead_letter_failed, released).",
	}, append(l, "outcome")))
	if err != nil {
		return nil, err
	}
	deadLetters, err := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orderbus_consumer_dead_letters_total",
		Help: "Messages copied to the DLQ stream and terminated, by reason (permanent, exhausted, malformed).",
	}, append(l, "reason")))
	if err != nil {
		return nil, err
	}
	panics, err := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orderbus_consumer_handler_panics_total",
		Help: "Handler panics recovered by the runner (each retried as a transient failure).",
	}, l))
	if err != nil {
		return nil, err
	}
	fetchErrors, err := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orderbus_consumer_fetch_errors_total",
		Help: "Failed fetch requests (JetStream unreachable, consumer missing); the runner keeps retrying.",
	}, l))
	if err != nil {
		return nil, err
	}
	inFlight, err := register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "orderbus_consumer_in_flight",
		Help: "Handlers running now.",
	}, l))
	if err != nil {
		return nil, err
	}
	duration, err := register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "orderbus_consumer_handler_duration_seconds",
		Help:    "Time spent in the handler per delivery, whatever its result.",
		Buckets: prometheus.ExponentialBuckets(0.001, 4, 9), // 1ms .. 65s
	}, l))
	if err != nil {
		return nil, err
	}
	return &metrics{
		messages:    messages.MustCurryWith(prometheus.Labels{"durable": durable}),
		deadLetters: deadLetters.MustCurryWith(prometheus.Labels{"durable": durable}),
		panics:      panics.WithLabelValues(durable),
		fetchErrors: fetchErrors.WithLabelValues(durable),
		inFlight:    inFlight.WithLabelValues(durable),
		duration:    duration.WithLabelValues(durable),
	}, nil
}

// register registers c with reg, or returns the equal collector registered
// before. A nil reg leaves c unregistered.
func register[T prometheus.Collector](reg prometheus.Registerer, c T) (T, error) {
	if reg == nil {
		return c, nil
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(T); ok {
				return existing, nil
			}
		}
		return c, fmt.Errorf("register consumer metrics: %w", err)
	}
	return c, nil
}
