package main

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of handling an SMS event, the outcome label of sms_messages_total.
const (
	outcomeSent      = "sent"      // accepted by the provider and recorded
	outcomeFailed    = "failed"    // refused for good; recorded and dead-lettered
	outcomeRetry     = "retry"     // transient failure; the message is redelivered later
	outcomeDuplicate = "duplicate" // already handled; acknowledged without sending
	// outcomeSuppressed: about an erased customer's order; acknowledged
	// without recording (pkg/erasure; also orderbus_erasure_suppressed_total).
	outcomeSuppressed = "suppressed"
)

// smsMetrics counts handled SMS events by provider and outcome.
type smsMetrics struct {
	messages *prometheus.CounterVec
}

// newSMSMetrics registers the service's metrics in reg, with zero series
// for provider. It returns an error when reg already holds them.
func newSMSMetrics(reg prometheus.Registerer, provider string) (*smsMetrics, error) {
	m := &smsMetrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sms_messages_total",
			Help: "SMS events handled, by provider and outcome (sent, failed, retry, duplicate, suppressed).",
		}, []string{"provider", "outcome"}),
	}
	if err := reg.Register(m.messages); err != nil {
		return nil, fmt.Errorf("register sms metrics: %w", err)
	}
	// Zero series exist from the start, so rate() and alerts see them.
	for _, outcome := range []string{outcomeSent, outcomeFailed, outcomeRetry, outcomeDuplicate, outcomeSuppressed} {
		m.messages.WithLabelValues(provider, outcome)
	}
	return m, nil
}

// count adds one to provider's outcome.
func (m *smsMetrics) count(provider, outcome string) {
	m.messages.WithLabelValues(provider, outcome).Inc()
}
