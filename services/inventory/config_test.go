package main

import (
	"bytes"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/config"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	base := map[string]string{"DATABASE_URL": "postgres://u:secret@db/inventory"}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // substring; "" = valid
		check   func(t *testing.T, c Config)
	}{
		{name: "defaults", env: base, check: func(t *testing.T, c Config) {
			if c.HTTPAddr != ":8081" || c.NATSURL != "nats://127.0.0.1:4222" || c.LogLevel != "info" ||
				c.LogFormat != "json" || c.ShutdownTimeout != 20*time.Second || c.PublishTimeout != 2*time.Second ||
				c.Interval != time.Second || c.Concurrency != 8 || c.PauseAfter != 5 {
				t.Errorf("defaults = %+v", c)
			}
			want := []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute}
			if !slices.Equal(c.BackOff, want) {
				t.Errorf("backoff = %v, want %v", c.BackOff, want)
			}
			if c.ackWait() != 30*time.Second {
				t.Errorf("ack wait = %v, want 30s", c.ackWait())
			}
		}},
		{name: "overrides", env: with(base, "HTTP_ADDR", "127.0.0.1:9000", "PUBLISH_TIMEOUT", "20s",
			"OUTBOX_INTERVAL", "250ms", "CONSUMER_CONCURRENCY", "2", "CONSUMER_PAUSE_AFTER", "3", "CONSUMER_BACKOFF", "100ms,2s"),
			check: func(t *testing.T, c Config) {
				if c.HTTPAddr != "127.0.0.1:9000" || c.PublishTimeout != 20*time.Second || c.Interval != 250*time.Millisecond ||
					c.Concurrency != 2 || c.PauseAfter != 3 {
					t.Errorf("config = %+v", c)
				}
				if !slices.Equal(c.BackOff, []time.Duration{100 * time.Millisecond, 2 * time.Second}) {
					t.Errorf("backoff = %v", c.BackOff)
				}
				if want := 2 * (reserveTimeout + 20*time.Second); c.ackWait() != want {
					t.Errorf("ack wait = %v, want %v", c.ackWait(), want)
				}
			}},
		{name: "database url required", env: map[string]string{}, wantErr: "DATABASE_URL"},
		{name: "bad duration", env: with(base, "PUBLISH_TIMEOUT", "soon"), wantErr: "PublishTimeout"},
		{name: "zero publish timeout", env: with(base, "PUBLISH_TIMEOUT", "0s"), wantErr: "PUBLISH_TIMEOUT"},
		{name: "negative outbox interval", env: with(base, "OUTBOX_INTERVAL", "-1s"), wantErr: "OUTBOX_INTERVAL"},
		{name: "zero shutdown timeout", env: with(base, "SHUTDOWN_TIMEOUT", "0s"), wantErr: "SHUTDOWN_TIMEOUT"},
		{name: "bad backoff", env: with(base, "CONSUMER_BACKOFF", "1s,soon"), wantErr: "BackOff"},
		{name: "negative backoff", env: with(base, "CONSUMER_BACKOFF", "-1s"), wantErr: "CONSUMER_BACKOFF"},
		{name: "zero concurrency", env: with(base, "CONSUMER_CONCURRENCY", "0"), wantErr: "CONSUMER_CONCURRENCY"},
		{name: "zero pause after", env: with(base, "CONSUMER_PAUSE_AFTER", "0"), wantErr: "CONSUMER_PAUSE_AFTER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := loadConfig(servicetest.Getenv(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("loadConfig error = %v, want one naming %s", err, tt.wantErr)
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
		DatabaseURL: "postgres://inventory:s3cret-db@db:5432/inventory?sslmode=disable",
		NATSURL:     "nats://svc:s3cret-nats@n1:4222,nats://svc:s3cret-nats@n2:4222",
	}}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", "config", c)
	out := buf.String()
	if strings.Contains(out, "s3cret") {
		t.Errorf("log line holds a password: %s", out)
	}
	if !strings.Contains(out, "db:5432/inventory") || !strings.Contains(out, "n2:4222") {
		t.Errorf("log line lost the hosts: %s", out)
	}
}

// with returns a copy of m with the key, value pairs set.
func with(m map[string]string, kv ...string) map[string]string {
	out := maps.Clone(m)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}
