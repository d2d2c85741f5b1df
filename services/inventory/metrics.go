package main

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of an order placed event, the outcome label of
// inventory_reservations_total.
const (
	outcomeReserved  = "reserved"  // every line reserved; stock lowered
	outcomeRejected  = "rejected"  // some SKU missing; stock unchanged
	outcomeDuplicate = "duplicate" // event or order already handled; nothing done
	// outcomeSuppressed: an erased customer's order; nothing reserved or
	// announced (pkg/erasure; also orderbus_erasure_suppressed_total).
	outcomeSuppressed = "suppressed"
)

// reservationMetrics counts handled order placed events by outcome. The
// consumer and outbox metrics come from pkg/natsjs and pkg/outbox.
type reservationMetrics struct {
	reservations *prometheus.CounterVec
}

// newReservationMetrics registers the service's metrics in reg. It returns
// an error when reg already holds them.
func newReservationMetrics(reg prometheus.Registerer) (*reservationMetrics, error) {
	m := &reservationMetrics{
		reservations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "inventory_reservations_total",
			Help: "Order placed events handled, by outcome (reserved, rejected, duplicate, suppressed).",
		}, []string{"outcome"}),
	}
	if err := reg.Register(m.reservations); err != nil {
		return nil, fmt.Errorf("register inventory metrics: %w", err)
	}
	// Zero series exist from the start, so rate() and alerts see them.
	for _, outcome := range []string{outcomeReserved, outcomeRejected, outcomeDuplicate, outcomeSuppressed} {
		m.reservations.WithLabelValues(outcome)
	}
	return m, nil
}

// count adds one to outcome.
func (m *reservationMetrics) count(outcome string) {
	m.reservations.WithLabelValues(outcome).Inc()
}
