package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// serviceView is what the console reads from one service's /metrics.
type serviceView struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	// Up is whether its /metrics answered at the last poll.
	Up    bool   `json:"up"`
	Error string `json:"error,omitempty"`
	// OutboxPending and OutboxOldestSeconds are its outbox backlog
	// (orderbus_outbox_pending, orderbus_outbox_oldest_pending_seconds);
	// nil for a service without an outbox.
	OutboxPending       *float64 `json:"outbox_pending,omitempty"`
	OutboxOldestSeconds *float64 `json:"outbox_oldest_seconds,omitempty"`
	// Paused lists its consumers that stopped fetching because a
	// dependency fails (orderbus_consumer_paused{durable} = 1).
	Paused []string `json:"paused,omitempty"`
	// ErasuresOpen is gdpr_erasures_open, for the gdpr service.
	ErasuresOpen *float64 `json:"erasures_open,omitempty"`
}

// Metric names the console reads; the dashboards test checks that the
// services export them.
const (
	metricOutboxPending  = "orderbus_outbox_pending"
	metricOutboxOldest   = "orderbus_outbox_oldest_pending_seconds"
	metricConsumerPaused = "orderbus_consumer_paused"
	metricErasuresOpen   = "gdpr_erasures_open"
)

// scrape reads one service's /metrics into a serviceView; a service that
// does not answer is reported down, not as an error.
func scrape(ctx context.Context, client *http.Client, name, base string) serviceView {
	v := serviceView{Name: name, URL: base}
	fams, err := fetchMetrics(ctx, client, base+"/metrics")
	if err != nil {
		v.Error = err.Error()
		return v
	}
	v.Up = true
	v.OutboxPending = gaugeSum(fams[metricOutboxPending])
	v.OutboxOldestSeconds = gaugeMax(fams[metricOutboxOldest])
	v.ErasuresOpen = gaugeSum(fams[metricErasuresOpen])
	if f := fams[metricConsumerPaused]; f != nil {
		for _, m := range f.GetMetric() {
			if m.GetGauge().GetValue() > 0 {
				v.Paused = append(v.Paused, label(m, "durable"))
			}
		}
	}
	return v
}

func fetchMetrics(ctx context.Context, client *http.Client, url string) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	return fams, nil
}

func gaugeSum(f *dto.MetricFamily) *float64 {
	if f == nil {
		return nil
	}
	var sum float64
	for _, m := range f.GetMetric() {
		sum += m.GetGauge().GetValue()
	}
	return &sum
}

func gaugeMax(f *dto.MetricFamily) *float64 {
	if f == nil {
		return nil
	}
	var top float64
	for _, m := range f.GetMetric() {
		top = max(top, m.GetGauge().GetValue())
	}
	return &top
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// parseServices reads CONSOLE_SERVICES: comma-separated name=url pairs.
func parseServices(s string) ([][2]string, error) {
	var out [][2]string
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, url, ok := strings.Cut(part, "=")
		if !ok || name == "" || !strings.HasPrefix(url, "http") {
			return nil, fmt.Errorf("CONSOLE_SERVICES entry %q: want name=http://host:port", part)
		}
		out = append(out, [2]string{name, strings.TrimRight(url, "/")})
	}
	return out, nil
}
