package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/orderbus/orderbus/pkg/auth"
	"github.com/orderbus/orderbus/pkg/pgtest"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { pgtest.Main(m, &cluster) }

func TestRunRefusesBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{name: "nothing set", env: map[string]string{}, want: []string{"DATABASE_URL", "AUTH_JWT_KEY"}},
		{name: "no key", env: map[string]string{"DATABASE_URL": "postgres://db/gdpr"}, want: []string{"AUTH_JWT_KEY"}},
		{name: "development key outside development", env: map[string]string{"DATABASE_URL": "postgres://db/gdpr",
			"AUTH_JWT_KEY": auth.DevelopmentKey, "ORDERBUS_ENV": "production"}, want: []string{"ORDERBUS_ENV=development"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			err := run(context.Background(), nil, func(k string) string { return tt.env[k] }, &logs, &logs)
			if err == nil {
				t.Fatal("run succeeded, want a config error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("run error %q does not name %s", err, w)
				}
			}
		})
	}
}

// TestOperationalEndpointsAreOpen checks that probes and scrapers need no
// token, and that the config is logged with the token masked.
func TestOperationalEndpointsAreOpen(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	tests := []struct {
		path string
		want []string
	}{
		{path: "/healthz", want: []string{`"status":"ok"`}},
		{path: "/readyz", want: []string{"postgres", "nats"}},
		{path: "/metrics", want: []string{
			"gdpr_erasures_open 0",
			"gdpr_erasure_oldest_open_age_seconds 0",
			`gdpr_erasures_total{outcome="requested"} 0`,
			`gdpr_erasures_total{outcome="completed"} 0`,
			`gdpr_answers_total{outcome="recorded"} 0`,
			"orderbus_outbox_published_total",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res := e.do(http.MethodGet, tt.path, "", "")
			if res.code != http.StatusOK {
				t.Fatalf("GET %s = %d %s", tt.path, res.code, res.body)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.body, w) {
					t.Errorf("GET %s lacks %q:\n%s", tt.path, w, res.body)
				}
			}
		})
	}
	logs := e.Logs()
	if strings.Contains(logs, servicetest.AuthKey) {
		t.Error("the service log holds AUTH_JWT_KEY")
	}
	if !strings.Contains(logs, "auth_jwt_key=xxxxx") {
		t.Error("the logged config lacks the masked auth_jwt_key")
	}
}
