package main

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics holds the service's own Prometheus collectors; the HTTP, outbox
// and consumer metrics come from pkg/web, pkg/outbox and pkg/natsjs.
type metrics struct {
	// erasures counts erasures by outcome: requested (new), repeated (a
	// request returned the customer's open erasure) and completed.
	erasures *prometheus.CounterVec
	// answers counts participants' answers by outcome (recorded,
	// duplicate, ignored).
	answers *prometheus.CounterVec
	// completionFailures counts completions that failed (a purge or the
	// database) and are retried.
	completionFailures prometheus.Counter
}

// statsTimeout bounds the query behind the open-erasure gauges, so a slow
// database cannot stall a scrape.
const statsTimeout = time.Second

// newMetrics creates the collectors, including the open-erasure gauges
// read from store at scrape time, and registers them in reg. It returns an
// error when reg already holds them.
func newMetrics(reg prometheus.Registerer, store *Store) (*metrics, error) {
	m := &metrics{
		erasures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gdpr_erasures_total",
			Help: "Erasure requests by outcome (requested: a new erasure; repeated: the customer's open " +
				"erasure was returned) and erasures completed (completed).",
		}, []string{"outcome"}),
		answers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gdpr_answers_total",
			Help: "Participants' erasure answers and verifications by outcome (recorded; duplicate: a redelivery; " +
				"ignored: from a service that is not a participant; verified; verified_too_early: before the purge).",
		}, []string{"outcome"}),
		completionFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gdpr_completion_failures_total",
			Help: "Completions that failed (stream purge or database) and are retried.",
		}),
	}
	for _, c := range []prometheus.Collector{m.erasures, m.answers, m.completionFailures, newOpenCollector(store)} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register gdpr metrics: %w", err)
		}
	}
	// Zero series exist from the start, so rate() and alerts see them.
	for _, o := range []string{erasureRequested, erasureRepeated, erasureCompleted} {
		m.erasures.WithLabelValues(o)
	}
	for _, o := range []string{answerRecorded, answerDuplicate, answerIgnored, verificationRecorded, verificationEarly} {
		m.answers.WithLabelValues(o)
	}
	return m, nil
}

// openCollector reports the open erasures from the database at scrape
// time, so that every instance reports the same truth and nothing has to
// be kept in step. Alert on the oldest age: an erasure waits for as long
// as a participant is down.
type openCollector struct {
	store        *Store
	open, oldest *prometheus.Desc
}

func newOpenCollector(store *Store) *openCollector {
	return &openCollector{
		store: store,
		open: prometheus.NewDesc("gdpr_erasures_open",
			"Erasures not completed yet (waiting for an answer or for the purge).", nil, nil),
		oldest: prometheus.NewDesc("gdpr_erasure_oldest_open_age_seconds",
			"Age of the oldest erasure not completed yet; 0 when none is open.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *openCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.open
	ch <- c.oldest
}

// Collect implements prometheus.Collector. When the query fails the two
// gauges are reported as errors of the scrape (see web.HandleMetrics),
// never as a misleading 0.
func (c *openCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), statsTimeout)
	defer cancel()
	open, oldest, err := c.store.OpenStats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.open, err)
		ch <- prometheus.NewInvalidMetric(c.oldest, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(open))
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, oldest)
}
