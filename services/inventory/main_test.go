package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/orderbus/orderbus/pkg/pgtest"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { pgtest.Main(m, &cluster) }

func TestRunFailsWithoutDatabaseURL(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	err := run(context.Background(), nil, func(string) string { return "" }, &logs, &logs)
	if err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Fatalf("run without DATABASE_URL = %v, want an error naming DATABASE_URL", err)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	tests := []struct {
		name, path string
		want       []string
	}{
		{name: "healthz", path: "/healthz", want: []string{`"status":"ok"`}},
		{name: "readyz", path: "/readyz", want: []string{"postgres", "nats", `"consumers":{"status":"ok"`}},
		{name: "metrics", path: "/metrics", want: []string{
			`inventory_reservations_total{outcome="reserved"} 0`,
			`inventory_reservations_total{outcome="rejected"} 0`,
			`inventory_reservations_total{outcome="duplicate"} 0`,
			"orderbus_outbox_published_total",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := e.do(http.MethodGet, tt.path, "")
			if code != http.StatusOK {
				t.Fatalf("GET %s = %d %s", tt.path, code, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s lacks %q:\n%s", tt.path, w, body)
				}
			}
		})
	}
}
