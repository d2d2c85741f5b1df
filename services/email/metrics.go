package main

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of handling a mail event, the outcome label of email_mails_total.
const (
	outcomeSent      = "sent"      // accepted by the SMTP server and recorded
	outcomeFailed    = "failed"    // refused for good; recorded and dead-lettered
	outcomeRetry     = "retry"     // transient failure; the message is redelivered later
	outcomeDuplicate = "duplicate" // already handled; acknowledged without sending
	// outcomeSuppressed: about an erased customer's order; acknowledged
	// without recording (pkg/erasure; also orderbus_erasure_suppressed_total).
	outcomeSuppressed = "suppressed"
)

// mailMetrics counts handled mail events by kind and outcome.
type mailMetrics struct {
	mails *prometheus.CounterVec
}

// newMailMetrics registers the service's metrics in reg. It returns an
// error when reg already holds them.
func newMailMetrics(reg prometheus.Registerer) (*mailMetrics, error) {
	m := &mailMetrics{
		mails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "email_mails_total",
			Help: "Mail events handled, by mail kind and outcome (sent, failed, retry, duplicate, suppressed).",
		}, []string{"kind", "outcome"}),
	}
	if err := reg.Register(m.mails); err != nil {
		return nil, fmt.Errorf("register email metrics: %w", err)
	}
	// Zero series exist from the start, so rate() and alerts see them.
	for _, kind := range []string{kindReceipt, kindApology} {
		for _, outcome := range []string{outcomeSent, outcomeFailed, outcomeRetry, outcomeDuplicate, outcomeSuppressed} {
			m.mails.WithLabelValues(kind, outcome)
		}
	}
	return m, nil
}

// count adds one to kind's outcome.
func (m *mailMetrics) count(kind, outcome string) {
	m.mails.WithLabelValues(kind, outcome).Inc()
}
