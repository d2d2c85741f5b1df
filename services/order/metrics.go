package main

import "github.com/prometheus/client_golang/prometheus"

// metrics holds the service's own Prometheus collectors; the HTTP and
// outbox metrics come from pkg/web and pkg/outbox.
type metrics struct {
	// ordersPlaced counts orders stored (idempotent replays excluded).
	ordersPlaced prometheus.Counter
}

// newMetrics creates the collectors and registers them in reg.
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		ordersPlaced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "orders_placed_total",
			Help: "Orders accepted and stored (idempotent replays are not counted).",
		}),
	}
	reg.MustRegister(m.ordersPlaced)
	return m
}
