package config

import (
	"bytes"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsauth"
)

// embeddingConfig is a service's config struct as the services write it:
// the shared settings embedded, its own beside them.
type embeddingConfig struct {
	Service
	HTTPAddr string        `env:"HTTP_ADDR" envDefault:":8083"`
	Timeout  time.Duration `env:"OWN_TIMEOUT" envDefault:"2s"`
}

func TestLoadEmbeddedService(t *testing.T) {
	t.Parallel()
	defaults := embeddingConfig{
		Service: Service{
			DatabaseURL: "postgres://db/email", NATSURL: "nats://127.0.0.1:4222",
			DBStatementTimeout: 10 * time.Second, DBAcquireTimeout: 5 * time.Second,
			LogLevel: "info", LogFormat: "json", ShutdownTimeout: 20 * time.Second,
			Retention: events.DefaultRetention(),
		},
		HTTPAddr: ":8083", Timeout: 2 * time.Second,
	}
	tests := []struct {
		name     string
		env      map[string]string
		want     func(c *embeddingConfig)
		wantErrs []string
	}{
		{name: "defaults", env: map[string]string{"DATABASE_URL": "postgres://db/email"}, want: func(*embeddingConfig) {}},
		{
			name: "overrides",
			env: map[string]string{
				"DATABASE_URL": "postgres://db/email", "NATS_URL": "nats://n1:4222", "LOG_LEVEL": "debug",
				"LOG_FORMAT": "text", "SHUTDOWN_TIMEOUT": "5s", "HTTP_ADDR": ":9000", "OWN_TIMEOUT": "1m",
				"STREAM_MAX_AGE": "24h", "DLQ_MAX_AGE": "48h", "DLQ_MAX_BYTES": "1048576", "STREAM_REPLICAS": "3",
				"DB_STATEMENT_TIMEOUT": "2s", "DB_ACQUIRE_TIMEOUT": "750ms",
			},
			want: func(c *embeddingConfig) {
				c.DBStatementTimeout, c.DBAcquireTimeout = 2*time.Second, 750*time.Millisecond
				c.NATSURL, c.LogLevel, c.LogFormat, c.ShutdownTimeout = "nats://n1:4222", "debug", "text", 5*time.Second
				c.Retention = events.Retention{MaxAge: 24 * time.Hour, DLQMaxAge: 48 * time.Hour, DLQMaxBytes: 1 << 20, Replicas: 3}
				c.HTTPAddr, c.Timeout = ":9000", time.Minute
			},
		},
		{name: "missing required", env: map[string]string{}, wantErrs: []string{`"DATABASE_URL" is not set`}},
		{
			name:     "errors of both levels at once",
			env:      map[string]string{"SHUTDOWN_TIMEOUT": "soon", "OWN_TIMEOUT": "later"},
			wantErrs: []string{`"DATABASE_URL" is not set`, "ShutdownTimeout", "Timeout", `"later"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var asked []string
			got, err := Load[embeddingConfig](func(k string) string { asked = append(asked, k); return tt.env[k] })
			wantAsked := []string{"DATABASE_URL", "DB_STATEMENT_TIMEOUT", "DB_ACQUIRE_TIMEOUT", "NATS_URL",
				"NATS_USER", "NATS_PASSWORD", "NATS_CREDS", "NATS_NKEY_SEED", "NATS_TLS_CA", "NATS_TLS_CERT", "NATS_TLS_KEY",
				"ORDERBUS_ENV", "LOG_LEVEL", "LOG_FORMAT", "SHUTDOWN_TIMEOUT",
				"STREAM_MAX_AGE", "DLQ_MAX_AGE", "DLQ_MAX_BYTES", "STREAM_REPLICAS", "HTTP_ADDR", "OWN_TIMEOUT"}
			if !slices.Equal(asked, wantAsked) {
				t.Errorf("getenv asked for %v, want %v", asked, wantAsked)
			}
			if len(tt.wantErrs) > 0 {
				if err == nil {
					t.Fatalf("Load = %+v, want an error", got)
				}
				for _, s := range tt.wantErrs {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q lacks %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := defaults
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Load = %+v\nwant   %+v", got, want)
			}
		})
	}
}

func TestServiceValidate(t *testing.T) {
	t.Parallel()
	valid := Service{
		ShutdownTimeout: time.Second, DBStatementTimeout: time.Second, DBAcquireTimeout: time.Second,
		Retention: events.DefaultRetention(),
	}
	if err := valid.Validate(); err != nil {
		t.Errorf("Validate = %v, want nil", err)
	}
	dev := valid
	dev.Environment, dev.NATS = EnvDevelopment, NATSAuth{User: "order", Password: natsauth.DevPassword("order")}
	if err := dev.Validate(); err != nil {
		t.Errorf("Validate of the development password with ORDERBUS_ENV=development = %v, want nil", err)
	}
	tests := []struct {
		name   string
		modify func(s *Service)
		want   []string
	}{
		{name: "zero shutdown timeout", modify: func(s *Service) { s.ShutdownTimeout = 0 }, want: []string{"SHUTDOWN_TIMEOUT"}},
		{name: "negative shutdown timeout", modify: func(s *Service) { s.ShutdownTimeout = -time.Second }, want: []string{"SHUTDOWN_TIMEOUT"}},
		{name: "zero statement timeout", modify: func(s *Service) { s.DBStatementTimeout = 0 }, want: []string{"DB_STATEMENT_TIMEOUT"}},
		{name: "sub-millisecond statement timeout", modify: func(s *Service) { s.DBStatementTimeout = time.Microsecond }, want: []string{"DB_STATEMENT_TIMEOUT"}},
		{name: "zero acquire timeout", modify: func(s *Service) { s.DBAcquireTimeout = 0 }, want: []string{"DB_ACQUIRE_TIMEOUT"}},
		{name: "password without user", modify: func(s *Service) { s.NATS.Password = "p" }, want: []string{"NATS_USER and NATS_PASSWORD"}},
		{name: "user and creds", modify: func(s *Service) { s.NATS = NATSAuth{User: "u", Password: "p", CredsFile: "c"} },
			want: []string{"one kind of credentials"}},
		{name: "client certificate without key", modify: func(s *Service) { s.NATS.TLSCertFile = "c.pem" },
			want: []string{"NATS_TLS_CERT and NATS_TLS_KEY"}},
		{name: "dev password in production", modify: func(s *Service) {
			s.NATS = NATSAuth{User: "order", Password: natsauth.DevPassword("order")}
		}, want: []string{"NATS_PASSWORD", "ORDERBUS_ENV"}},
		{name: "dev database password in production", modify: func(s *Service) {
			s.DatabaseURL = "postgres://order_svc:order-dev-password@db:5432/orders"
		}, want: []string{"DATABASE_URL", "published development secret"}},
		{name: "dev password in NATS_URL", modify: func(s *Service) {
			s.NATSURL = "nats://order:" + natsauth.DevPassword("order") + "@n:4222"
		}, want: []string{"published development secret"}},
		{
			name:   "every bad setting at once",
			modify: func(s *Service) { *s = Service{Retention: events.Retention{MaxAge: time.Minute}} },
			want: []string{"SHUTDOWN_TIMEOUT", "DB_STATEMENT_TIMEOUT", "DB_ACQUIRE_TIMEOUT",
				"STREAM_MAX_AGE", "DLQ_MAX_AGE", "DLQ_MAX_BYTES", "STREAM_REPLICAS"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := valid
			tt.modify(&s)
			err := s.Validate()
			for _, name := range tt.want {
				if err == nil || !strings.Contains(err.Error(), name) {
					t.Errorf("Validate = %v, want an error naming %s", err, name)
				}
			}
		})
	}
}

func TestServiceLogValueRedactsURLs(t *testing.T) {
	t.Parallel()
	s := Service{
		DatabaseURL:        "postgres://email:s3cret-db@db:5432/email?sslmode=disable",
		NATSURL:            "nats://svc:s3cret-nats@n1:4222, nats://svc:s3cret-nats@n2:4222",
		LogLevel:           "info",
		LogFormat:          "json",
		ShutdownTimeout:    20 * time.Second,
		Retention:          events.DefaultRetention(),
		DBStatementTimeout: 10 * time.Second,
		DBAcquireTimeout:   5 * time.Second,
	}
	// As a service logs it: inlined into its own group.
	own := slog.GroupValue(slog.Attr{Value: s.LogValue()}, slog.String("http_addr", ":8083"))
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", "config", own)
	out := buf.String()
	if strings.Contains(out, "s3cret") {
		t.Errorf("log line holds a password: %s", out)
	}
	for _, want := range []string{
		`"database_url":"postgres://email:xxxxx@db:5432/email?sslmode=disable"`,
		`"nats_url":"nats://svc:xxxxx@n1:4222,nats://svc:xxxxx@n2:4222"`,
		`"shutdown_timeout":"20s"`, `"http_addr":":8083"`, `"stream_max_age":"168h0m0s"`,
		`"dlq_max_age":"720h0m0s"`, `"dlq_max_bytes":1073741824`,
		`"db_statement_timeout":"10s"`, `"db_acquire_timeout":"5s"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log line lacks %s: %s", want, out)
		}
	}
	if strings.Contains(out, `"":`) {
		t.Errorf("the service settings were not inlined: %s", out)
	}
}
