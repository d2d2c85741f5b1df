package web

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestMetricsExposesRequests(t *testing.T) {
	t.Parallel()
	reg := NewRegistry()
	srv := httptest.NewServer(newTestRouter(slog.New(slog.DiscardHandler), reg))
	t.Cleanup(srv.Close)
	for _, path := range []string{"/v1/orders/o-1", "/v1/orders/o-2", "/v1/customers/alice/orders", "/nope", "/panic"} {
		get(t, srv, path, nil)
	}
	resp, body := get(t, srv, "/metrics", nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	tests := []struct {
		name string
		line string
	}{
		{name: "route pattern counted", line: `http_requests_total{method="GET",route="/v1/orders/{id}",status="200"} 2`},
		{name: "nested route", line: `http_requests_total{method="GET",route="/v1/customers/{id}/orders",status="204"} 1`},
		{name: "unmatched", line: `http_requests_total{method="GET",route="unmatched",status="404"} 1`},
		{name: "panic as 500", line: `http_requests_total{method="GET",route="/panic",status="500"} 1`},
		{name: "duration histogram", line: `http_request_duration_seconds_count{method="GET",route="/v1/orders/{id}",status="200"} 2`},
		{name: "go collector", line: `go_goroutines `},
		{name: "process collector", line: `process_start_time_seconds `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(body, tt.line) {
				t.Errorf("metrics lack %q:\n%s", tt.line, body)
			}
		})
	}
	for _, leak := range []string{"o-1", "alice", "/nope"} {
		if strings.Contains(body, leak) {
			t.Errorf("metrics hold the raw path value %q", leak)
		}
	}
}

func TestMetricsRegistration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		prepare   func(reg *prometheus.Registry)
		wantPanic bool
	}{
		{name: "fresh registry"},
		{name: "registered twice reuses", prepare: func(reg *prometheus.Registry) { Metrics(reg) }},
		{name: "conflicting collector panics", wantPanic: true, prepare: func(reg *prometheus.Registry) {
			reg.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "http_requests_total", Help: "x"}))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg := prometheus.NewRegistry()
			if tt.prepare != nil {
				tt.prepare(reg)
			}
			defer func() {
				if rec := recover(); (rec != nil) != tt.wantPanic {
					t.Fatalf("panic = %v, want panic: %v", rec, tt.wantPanic)
				}
			}()
			h := Metrics(reg)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }))
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("BREW", "/pot", nil))
			families, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range families {
				if f.GetName() != "http_requests_total" {
					continue
				}
				m := f.GetMetric()
				if len(m) != 1 || m[0].GetCounter().GetValue() != 1 {
					t.Fatalf("http_requests_total = %v, want one series at 1", m)
				}
				labels := map[string]string{}
				for _, l := range m[0].GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				if labels["method"] != "OTHER" || labels["route"] != "unmatched" || labels["status"] != "418" {
					t.Fatalf("labels = %v", labels)
				}
				return
			}
			t.Fatal("http_requests_total not gathered")
		})
	}
}
