package main

import "github.com/prometheus/client_golang/prometheus"

// metrics holds the service's own Prometheus collectors; the HTTP, outbox
// and consumer metrics come from pkg/web, pkg/outbox and pkg/natsjs.
type metrics struct {
	// ordersPlaced counts orders stored (idempotent replays excluded).
	ordersPlaced prometheus.Counter
	// inventoryResults counts inventory results handled, by result
	// (reserved, rejected) and outcome (applied, ignored, duplicate).
	inventoryResults *prometheus.CounterVec
}

// newMetrics creates the collectors and registers them in reg.
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		ordersPlaced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "orders_placed_total",
			Help: "Orders accepted and stored (idempotent replays are not counted).",
		}),
		inventoryResults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orders_inventory_results_total",
			Help: "Inventory results handled, by result (reserved, rejected) and outcome " +
				"(applied: the order moved; ignored: it was decided already; duplicate: a redelivery).",
		}, []string{"result", "outcome"}),
	}
	reg.MustRegister(m.ordersPlaced, m.inventoryResults)
	// Zero series exist from the start, so rate() and alerts see them.
	for _, result := range []string{"reserved", "rejected"} {
		for _, outcome := range []string{changeApplied, changeIgnored, changeDuplicate} {
			m.inventoryResults.WithLabelValues(result, outcome)
		}
	}
	return m
}
