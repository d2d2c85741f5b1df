package natsjs

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderbus/orderbus/pkg/promreg"
)

// Outcomes of a delivery, the outcome label of orderbus_consumer_messages_total.
const (
	outcomeAcked                = "acked"                  // handler succeeded
	outcomeRetried              = "retried"                // NAKed with a delay after a transient failure
	outcomeDeadLettered         = "dead_lettered"          // copied to the DLQ, then terminated
	outcomeDeadLetterFailed     = "dead_letter_failed"     // DLQ copy failed; NAKed to try again
	outcomeReleased             = "released"               // fetched but not started (stop or pause); NAKed at once
	outcomeSkippedRedrive       = "skipped_redrive"        // a redrive meant for another durable; acked unhandled
	outcomeDeadLetterSuppressed = "dead_letter_suppressed" // terminated without a DLQ copy (DeadLetterGuard)
)

// Reasons for dead-lettering, the reason label of orderbus_consumer_dead_letters_total
// and the Orderbus-Reason header.
const (
	reasonPermanent = "permanent"
	reasonMalformed = "malformed"
	// reasonForeignSource: the ce-source is not the service allowed to
	// publish the subject (events.CheckSource).
	reasonForeignSource = "foreign_source"
)

// metrics are one consumer's instruments, curried with its durable name.
type metrics struct {
	messages    *prometheus.CounterVec // by outcome
	deadLetters *prometheus.CounterVec // by reason
	panics      prometheus.Counter
	timeouts    prometheus.Counter
	fetchErrors prometheus.Counter
	inFlight    prometheus.Gauge
	duration    prometheus.Observer
	paused      *prometheus.GaugeVec   // by dependency
	pauses      *prometheus.CounterVec // by dependency
	dlqDepth    *dlqCollector          // shared by the consumers of one registry
}

// newMetrics registers the consumer metrics with reg (nil: unregistered
// instruments) and returns the ones labelled with durable. Several
// consumers may share reg: already registered vectors are reused.
func newMetrics(reg prometheus.Registerer, durable string) (*metrics, error) {
	l := []string{"durable"}
	messages, err := promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orderbus_consumer_messages_total",
		Help: "Deliveries handled by the consumer runner, by outcome (acked, retried, dead_lettered, dead_letter_failed, released, skipped_redrive, dead_letter_suppressed).",
	}, append(l, "outcome")))
	if err != nil {
		return nil, err
	}
	deadLetters, err := promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orderbus_consumer_dead_letters_total",
		Help: "Messages copied to the DLQ stream and terminated, by reason (permanent, malformed).",
	}, append(l, "reason")))
	if err != nil {
		return nil, err
	}
	panics, err := promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orderbus_consumer_handler_panics_total",
		Help: "Handler panics recovered by the runner (each retried as a transient failure).",
	}, l))
	if err != nil {
		return nil, err
	}
	timeouts, err := promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orderbus_consumer_handler_timeouts_total",
		Help: "Handler calls that failed after their deadline (HandlerTimeout); each is retried as a transient failure.",
	}, l))
	if err != nil {
		return nil, err
	}
	paused, err := promreg.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "orderbus_consumer_paused",
		Help: "1 while the consumer has stopped fetching because the dependency keeps failing, else 0.",
	}, append(l, "dependency")))
	if err != nil {
		return nil, err
	}
	pauses, err := promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orderbus_consumer_pauses_total",
		Help: "Times the consumer stopped fetching after a run of transient failures, by the dependency that failed.",
	}, append(l, "dependency")))
	if err != nil {
		return nil, err
	}
	dlqDepth, err := promreg.Register(reg, newDLQCollector())
	if err != nil {
		return nil, err
	}
	fetchErrors, err := promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orderbus_consumer_fetch_errors_total",
		Help: "Failed fetch requests (JetStream unreachable, consumer missing); the runner keeps retrying.",
	}, l))
	if err != nil {
		return nil, err
	}
	inFlight, err := promreg.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "orderbus_consumer_in_flight",
		Help: "Handlers running now.",
	}, l))
	if err != nil {
		return nil, err
	}
	duration, err := promreg.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
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
		timeouts:    timeouts.WithLabelValues(durable),
		fetchErrors: fetchErrors.WithLabelValues(durable),
		paused:      paused.MustCurryWith(prometheus.Labels{"durable": durable}),
		pauses:      pauses.MustCurryWith(prometheus.Labels{"durable": durable}),
		dlqDepth:    dlqDepth,
		inFlight:    inFlight.WithLabelValues(durable),
		duration:    duration.WithLabelValues(durable),
	}, nil
}
