package main

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics holds the service's own Prometheus collectors; the HTTP, outbox
// and consumer metrics come from pkg/web, pkg/outbox and pkg/natsjs.
type metrics struct {
	// ordersPlaced counts orders stored (idempotent replays excluded).
	ordersPlaced prometheus.Counter
	// inventoryResults counts inventory results handled, by result
	// (reserved, rejected) and outcome (applied, ignored, duplicate).
	inventoryResults *prometheus.CounterVec
}

// newMetrics creates the collectors and registers them in reg. It returns
// an error when reg already holds them.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		ordersPlaced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "orders_placed_total",
			Help: "Orders accepted and stored (idempotent replays are not counted).",
		}),
		inventoryResults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orders_inventory_results_total",
			Help: "Inventory results handled, by result (reserved, rejected) and outcome " +
				"(applied: the order moved; ignored: it was decided already; duplicate: a redelivery; " +
				"suppressed: about an erased customer's order).",
		}, []string{"result", "outcome"}),
	}
	if err := errors.Join(reg.Register(m.ordersPlaced), reg.Register(m.inventoryResults)); err != nil {
		return nil, fmt.Errorf("register order metrics: %w", err)
	}
	// Zero series exist from the start, so rate() and alerts see them.
	for _, result := range []string{"reserved", "rejected"} {
		for _, outcome := range []string{changeApplied, changeIgnored, changeDuplicate, changeSuppressed} {
			m.inventoryResults.WithLabelValues(result, outcome)
		}
	}
	return m, nil
}
