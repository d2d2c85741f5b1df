package outbox

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderbus/orderbus/pkg/promreg"
)

// metrics are the relay's Prometheus collectors. A nil *metrics records
// nothing, so the relay calls it unconditionally.
type metrics struct {
	publishedTotal prometheus.Counter
	errorsTotal    prometheus.Counter
	pending        prometheus.Gauge
	oldest         prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		publishedTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "orderbus_outbox_published_total",
			Help: "Outbox events published to JetStream and deleted from the outbox.",
		}),
		errorsTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "orderbus_outbox_publish_errors_total",
			Help: "Outbox event publishes that failed and were left for a retry.",
		}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "orderbus_outbox_pending",
			Help: "Outbox events waiting to be published, as of the relay's last tick.",
		}),
		oldest: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "orderbus_outbox_oldest_pending_seconds",
			Help: "Age of the oldest outbox event waiting to be published, as of the relay's last tick; 0 when none waits.",
		}),
	}
	var err error
	if m.publishedTotal, err = promreg.Register(reg, m.publishedTotal); err != nil {
		return nil, err
	}
	if m.errorsTotal, err = promreg.Register(reg, m.errorsTotal); err != nil {
		return nil, err
	}
	if m.pending, err = promreg.Register(reg, m.pending); err != nil {
		return nil, err
	}
	if m.oldest, err = promreg.Register(reg, m.oldest); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *metrics) published(n int) {
	if m != nil {
		m.publishedTotal.Add(float64(n))
	}
}

func (m *metrics) publishFailed() {
	if m != nil {
		m.errorsTotal.Inc()
	}
}

func (m *metrics) setPending(n int64, oldestSeconds float64) {
	if m != nil {
		m.pending.Set(float64(n))
		m.oldest.Set(oldestSeconds)
	}
}
