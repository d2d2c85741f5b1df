package natsjs

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderbus/orderbus/pkg/events"
)

// dlqScrapeTimeout bounds the DLQ lookups of one scrape, so that /metrics
// answers while JetStream does not.
const dlqScrapeTimeout = time.Second

// dlqCollector reports orderbus_consumer_dlq_messages: the messages in the
// DLQ stream under dlq.<durable>.> for every consumer registered with it,
// counted at scrape time. One collector serves all the consumers of a
// registry.
type dlqCollector struct {
	desc    *prometheus.Desc
	mu      sync.Mutex
	sources map[string]jetstream.JetStream // by durable
}

func newDLQCollector() *dlqCollector {
	return &dlqCollector{
		desc: prometheus.NewDesc("orderbus_consumer_dlq_messages",
			"Messages in the DLQ stream that this durable dead-lettered (dlq.<durable>.>), counted at scrape time.",
			[]string{"durable"}, nil),
		sources: map[string]jetstream.JetStream{},
	}
}

// add counts durable's dead letters through js from now on; a consumer
// created again under the same durable replaces the earlier one.
func (d *dlqCollector) add(durable string, js jetstream.JetStream) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sources[durable] = js
}

// Describe implements prometheus.Collector.
func (d *dlqCollector) Describe(ch chan<- *prometheus.Desc) { ch <- d.desc }

// Collect implements prometheus.Collector. A durable whose count cannot be
// read in time (JetStream unreachable) is left out of the scrape rather
// than failing it; a missing DLQ stream counts as 0.
func (d *dlqCollector) Collect(ch chan<- prometheus.Metric) {
	d.mu.Lock()
	sources := make(map[string]jetstream.JetStream, len(d.sources))
	for k, v := range d.sources {
		sources[k] = v
	}
	d.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), dlqScrapeTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for durable, js := range sources {
		wg.Go(func() {
			n, err := countDeadLetters(ctx, js, durable)
			if err != nil {
				return
			}
			ch <- prometheus.MustNewConstMetric(d.desc, prometheus.GaugeValue, float64(n), durable)
		})
	}
	wg.Wait()
}

// countDeadLetters returns how many messages the DLQ stream holds on
// dlq.<durable>.>, 0 when the stream does not exist.
func countDeadLetters(ctx context.Context, js jetstream.JetStream, durable string) (uint64, error) {
	if !js.Conn().IsConnected() {
		return 0, errors.New("nats not connected")
	}
	s, err := js.Stream(ctx, events.StreamDLQ)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(events.DLQSubject(durable, ">")))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var n uint64
	for _, c := range info.State.Subjects {
		n += c
	}
	return n, nil
}
