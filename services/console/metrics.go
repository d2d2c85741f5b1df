package main

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// consumerCollector exports what the console last read of every durable
// consumer, so that Prometheus sees consumer lag without a NATS exporter:
// orderbus_jetstream_consumer_pending (num_pending),
// orderbus_jetstream_consumer_ack_pending (num_ack_pending) and
// orderbus_jetstream_consumer_redelivered (num_redelivered), labelled by
// stream and consumer. The values are as old as CONSOLE_POLL_INTERVAL.
type consumerCollector struct {
	status                         *status
	pending, ackPending, redeliver *prometheus.Desc
}

// Names of the console's own metrics; the dashboards test reads them.
const (
	metricConsumerPending     = "orderbus_jetstream_consumer_pending"
	metricConsumerAckPending  = "orderbus_jetstream_consumer_ack_pending"
	metricConsumerRedelivered = "orderbus_jetstream_consumer_redelivered"
)

// registerMetrics registers the consumer collector in reg. It returns an
// error when reg already holds it.
func registerMetrics(reg prometheus.Registerer, st *status) error {
	labels := []string{"stream", "consumer"}
	c := &consumerCollector{
		status: st,
		pending: prometheus.NewDesc(metricConsumerPending,
			"Messages of the stream not yet delivered to the durable consumer (num_pending), as the console last read it.", labels, nil),
		ackPending: prometheus.NewDesc(metricConsumerAckPending,
			"Messages delivered to the durable consumer and not yet acknowledged (num_ack_pending).", labels, nil),
		redeliver: prometheus.NewDesc(metricConsumerRedelivered,
			"Unacknowledged messages delivered more than once (num_redelivered).", labels, nil),
	}
	if err := reg.Register(c); err != nil {
		return fmt.Errorf("register console metrics: %w", err)
	}
	return nil
}

// Describe implements prometheus.Collector.
func (c *consumerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.pending
	ch <- c.ackPending
	ch <- c.redeliver
}

// Collect implements prometheus.Collector.
func (c *consumerCollector) Collect(ch chan<- prometheus.Metric) {
	c.status.mu.Lock()
	consumers := c.status.consumers
	c.status.mu.Unlock()
	for _, v := range consumers {
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(v.Pending), v.Stream, v.Name)
		ch <- prometheus.MustNewConstMetric(c.ackPending, prometheus.GaugeValue, float64(v.AckPending), v.Stream, v.Name)
		ch <- prometheus.MustNewConstMetric(c.redeliver, prometheus.GaugeValue, float64(v.Redelivered), v.Stream, v.Name)
	}
}
