package main

import (
	"bytes"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/auth"
	"github.com/orderbus/orderbus/pkg/config"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/servicetest"
	"github.com/orderbus/orderbus/pkg/web"
)

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{"defaults", map[string]string{"DATABASE_URL": "postgres://db/orders"}, "", func(t *testing.T, c Config) {
			want := Config{
				Service: config.Service{
					DatabaseURL: "postgres://db/orders", NATSURL: "nats://127.0.0.1:4222",
					DBStatementTimeout: 10 * time.Second, DBAcquireTimeout: 5 * time.Second,
					LogLevel: "info", LogFormat: "json", ShutdownTimeout: 20 * time.Second,
					Retention: events.DefaultRetention(),
				},
				ConsumerSettings: natsjs.ConsumerSettings{
					Concurrency: 8, HandlerTimeout: 30 * time.Second, PauseAfter: 5, ProbeInterval: 2 * time.Second, Start: "new",
					BackOff: []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute},
				},
				Settings: outbox.Settings{PublishTimeout: 2 * time.Second, Interval: time.Second},
				HTTPAddr: ":8080",
				Auth:     auth.Settings{JWTKey: servicetest.AuthKey},
				HTTP: web.ServerSettings{ReadTimeout: 10 * time.Second, ReadHeaderTimeout: 5 * time.Second,
					WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, RequestTimeout: 15 * time.Second,
					MaxHeaderBytes: 65536, MaxBodyBytes: 1 << 20, MaxConns: 1024},
				RateLimit:       web.RateLimitSettings{Window: time.Minute},
				RateLimitOrders: 30,
				OrderTokenTTL:   720 * time.Hour,
			}
			if !reflect.DeepEqual(c, want) {
				t.Errorf("config = %+v, want %+v", c, want)
			}
			if c.ackWait() != 30*time.Second {
				t.Errorf("ack wait = %v, want 30s", c.ackWait())
			}
		}},
		{"overrides", map[string]string{"DATABASE_URL": "postgres://db/orders", "PUBLISH_TIMEOUT": "250ms", "OUTBOX_INTERVAL": "5s"}, "",
			func(t *testing.T, c Config) {
				if c.PublishTimeout != 250*time.Millisecond || c.Interval != 5*time.Second {
					t.Errorf("publish timeout %s, outbox interval %s; want 250ms, 5s", c.PublishTimeout, c.Interval)
				}
			}},
		{"consumer overrides", map[string]string{"DATABASE_URL": "postgres://db/orders", "CONSUMER_CONCURRENCY": "2",
			"CONSUMER_PAUSE_AFTER": "3", "CONSUMER_BACKOFF": "100ms,2s", "PUBLISH_TIMEOUT": "20s"}, "",
			func(t *testing.T, c Config) {
				if c.Concurrency != 2 || c.PauseAfter != 3 ||
					!slices.Equal(c.BackOff, []time.Duration{100 * time.Millisecond, 2 * time.Second}) {
					t.Errorf("consumer config = %d, %d, %v; want 2, 3, [100ms 2s]", c.Concurrency, c.PauseAfter, c.BackOff)
				}
				if c.ackWait() != time.Minute {
					t.Errorf("ack wait = %v, want 3 x PUBLISH_TIMEOUT", c.ackWait())
				}
			}},
		{"missing database url", map[string]string{}, "DATABASE_URL", nil},
		{"bad backoff", map[string]string{"DATABASE_URL": "postgres://db/orders", "CONSUMER_BACKOFF": "1s,soon"}, "BackOff", nil},
		{"negative backoff", map[string]string{"DATABASE_URL": "postgres://db/orders", "CONSUMER_BACKOFF": "-1s"}, "CONSUMER_BACKOFF", nil},
		{"zero concurrency", map[string]string{"DATABASE_URL": "postgres://db/orders", "CONSUMER_CONCURRENCY": "0"}, "CONSUMER_CONCURRENCY", nil},
		{"zero pause after", map[string]string{"DATABASE_URL": "postgres://db/orders", "CONSUMER_PAUSE_AFTER": "0"}, "CONSUMER_PAUSE_AFTER", nil},
		{"bad duration", map[string]string{"DATABASE_URL": "postgres://db/orders", "PUBLISH_TIMEOUT": "soon"}, "PublishTimeout", nil},
		{"zero interval", map[string]string{"DATABASE_URL": "postgres://db/orders", "OUTBOX_INTERVAL": "0s"}, "OUTBOX_INTERVAL", nil},
		{"development key outside development", map[string]string{"DATABASE_URL": "postgres://db/orders", "AUTH_JWT_KEY": auth.DevelopmentKey},
			"ORDERBUS_ENV=development", nil},
		{"development key in development", map[string]string{"DATABASE_URL": "postgres://db/orders", "AUTH_JWT_KEY": auth.DevelopmentKey,
			"ORDERBUS_ENV": "development"}, "", func(t *testing.T, c Config) {}},
		{"short key", map[string]string{"DATABASE_URL": "postgres://db/orders", "AUTH_JWT_KEY": "short"}, "AUTH_JWT_KEY", nil},
		{"negative order limit", map[string]string{"DATABASE_URL": "postgres://db/orders", "RATE_LIMIT_ORDERS": "-1"}, "RATE_LIMIT_ORDERS", nil},
		{"sub-second window", map[string]string{"DATABASE_URL": "postgres://db/orders", "RATE_LIMIT_WINDOW": "10ms"}, "RATE_LIMIT_WINDOW", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := loadConfig(func(k string) string {
				if v, ok := tt.env[k]; ok || k != "AUTH_JWT_KEY" {
					return v
				}
				return servicetest.AuthKey
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("loadConfig: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestConfigLogValueRedactsSecrets(t *testing.T) {
	t.Parallel()
	c := Config{Service: config.Service{
		DatabaseURL: "postgres://order:s3cret-db@db:5432/orders?sslmode=disable",
		NATSURL:     "nats://svc:s3cret-nats@n1:4222,nats://svc:s3cret-nats@n2:4222",
	}}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", "config", c)
	out := buf.String()
	if strings.Contains(out, "s3cret") {
		t.Errorf("log line holds a password: %s", out)
	}
	if !strings.Contains(out, "db:5432/orders") || !strings.Contains(out, "n2:4222") {
		t.Errorf("log line lost the hosts: %s", out)
	}
}
