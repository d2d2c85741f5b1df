package main

import (
	"bytes"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/auth"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	base := map[string]string{"DATABASE_URL": "postgres://app:s3cret@db/gdpr", "AUTH_JWT_KEY": servicetest.AuthKey}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name     string
		env      map[string]string
		check    func(t *testing.T, c Config)
		wantErrs []string
	}{
		{name: "defaults", env: base, check: func(t *testing.T, c Config) {
			if c.HTTPAddr != ":8082" || c.PublishTimeout != 2*time.Second || c.Interval != time.Second ||
				c.ShutdownTimeout != 20*time.Second || c.NATSURL != "nats://127.0.0.1:4222" {
				t.Errorf("defaults = %+v", c)
			}
			if want := []string{"order", "email", "sms", "inventory"}; !slices.Equal(c.Participants, want) {
				t.Errorf("participants = %v, want %v", c.Participants, want)
			}
			if c.Concurrency != 8 || c.PauseAfter != 5 || len(c.BackOff) != 6 {
				t.Errorf("consumer settings = %+v", c.ConsumerSettings)
			}
		}},
		{name: "participants trimmed", env: with("GDPR_PARTICIPANTS", "order, email ,billing-v2"), check: func(t *testing.T, c Config) {
			if want := []string{"order", "email", "billing-v2"}; !slices.Equal(c.Participants, want) {
				t.Errorf("participants = %v, want %v", c.Participants, want)
			}
		}},
		{name: "no key", env: map[string]string{"DATABASE_URL": "postgres://db/gdpr"}, wantErrs: []string{"AUTH_JWT_KEY"}},
		{name: "development key outside development", env: with("AUTH_JWT_KEY", auth.DevelopmentKey), wantErrs: []string{"ORDERBUS_ENV=development"}},
		{name: "negative erasure limit", env: with("RATE_LIMIT_ERASURES", "-1"), wantErrs: []string{"RATE_LIMIT_ERASURES"}},
		{name: "participant not a name", env: with("GDPR_PARTICIPANTS", "order,Email.x"), wantErrs: []string{`"Email.x" is not a service name`}},
		{name: "empty participant", env: with("GDPR_PARTICIPANTS", "order,,sms"), wantErrs: []string{`"" is not a service name`}},
		{name: "participant twice", env: with("GDPR_PARTICIPANTS", "order,sms,order"), wantErrs: []string{`"order" is listed twice`}},
		{
			name:     "every bad setting at once",
			env:      with("PUBLISH_TIMEOUT", "0s", "OUTBOX_INTERVAL", "-1s", "CONSUMER_CONCURRENCY", "0", "SHUTDOWN_TIMEOUT", "0s"),
			wantErrs: []string{"PUBLISH_TIMEOUT", "OUTBOX_INTERVAL", "CONSUMER_CONCURRENCY", "SHUTDOWN_TIMEOUT"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := loadConfig(func(k string) string { return tt.env[k] })
			if len(tt.wantErrs) > 0 {
				if err == nil {
					t.Fatalf("loadConfig = %+v, want an error", c)
				}
				for _, w := range tt.wantErrs {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
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

func TestConfigLogValueMasksSecrets(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(func(k string) string {
		return map[string]string{"DATABASE_URL": "postgres://app:s3cret@db/gdpr", "AUTH_JWT_KEY": "very-secret-token-0123456789abcdef0123456789"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", "config", c)
	out := buf.String()
	for _, secret := range []string{"s3cret", "very-secret-token"} {
		if strings.Contains(out, secret) {
			t.Errorf("logged config holds %q: %s", secret, out)
		}
	}
	for _, want := range []string{`"auth_jwt_key":"xxxxx"`, `"database_url":"postgres://app:xxxxx@db/gdpr"`,
		`"gdpr_participants":"order,email,sms,inventory"`, `"consumer_pause_after":5`, `"stream_max_age":"168h0m0s"`, `"http_addr":":8082"`} {
		if !strings.Contains(out, want) {
			t.Errorf("logged config lacks %s: %s", want, out)
		}
	}
}
