package main

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/servicetest"
)

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	base := map[string]string{"DATABASE_URL": "postgres://u:secret@db/sms"}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // substring; "" = valid
		check   func(t *testing.T, c Config)
	}{
		{name: "defaults", env: base, check: func(t *testing.T, c Config) {
			if c.HTTPAddr != ":8084" || c.SMSProvider != "log" || c.WebhookTimeout != 5*time.Second ||
				c.TwilioBaseURL != "https://api.twilio.com" || c.Concurrency != 8 || c.PauseAfter != 5 ||
				c.ShutdownTimeout != 20*time.Second || c.NATSURL != "nats://127.0.0.1:4222" ||
				c.LogLevel != "info" || c.LogFormat != "json" ||
				c.PublishTimeout != 2*time.Second || c.Interval != time.Second {
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
		{name: "slow webhook", env: with(base, "SMS_PROVIDER", "webhook", "SMS_WEBHOOK_URL", "http://gw/sms", "SMS_WEBHOOK_TIMEOUT", "20s"),
			check: func(t *testing.T, c Config) {
				if c.ackWait() != time.Minute {
					t.Errorf("ack wait = %v, want 3 x SMS_WEBHOOK_TIMEOUT", c.ackWait())
				}
			}},
		{name: "publish timeout raises the ack wait", env: with(base, "PUBLISH_TIMEOUT", "25s", "OUTBOX_INTERVAL", "250ms"),
			check: func(t *testing.T, c Config) {
				if c.PublishTimeout != 25*time.Second || c.Interval != 250*time.Millisecond {
					t.Errorf("publish timeout %v, outbox interval %v", c.PublishTimeout, c.Interval)
				}
				if c.ackWait() != 75*time.Second {
					t.Errorf("ack wait = %v, want 3 x PUBLISH_TIMEOUT", c.ackWait())
				}
			}},
		{name: "database url required", env: map[string]string{}, wantErr: "DATABASE_URL"},
		{name: "bad publish timeout", env: with(base, "PUBLISH_TIMEOUT", "soon"), wantErr: "PublishTimeout"},
		{name: "zero publish timeout", env: with(base, "PUBLISH_TIMEOUT", "0s"), wantErr: "PUBLISH_TIMEOUT"},
		{name: "negative outbox interval", env: with(base, "OUTBOX_INTERVAL", "-1s"), wantErr: "OUTBOX_INTERVAL"},
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

func TestProviderConfigValidation(t *testing.T) {
	t.Parallel()
	base := map[string]string{"DATABASE_URL": "postgres://u:secret@db/sms"}
	webhook := with(base, "SMS_PROVIDER", "webhook", "SMS_WEBHOOK_URL", "https://gw.example/sms")
	twilio := with(base, "SMS_PROVIDER", "twilio", "TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef",
		"TWILIO_AUTH_TOKEN", "tok", "TWILIO_FROM", "+15005550006")
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string // substrings; none = valid
	}{
		{name: "log needs nothing", env: base},
		{name: "log ignores twilio settings", env: with(base, "TWILIO_FROM", "not a number!")},
		{name: "unknown provider", env: with(base, "SMS_PROVIDER", "pigeon"), wantErr: []string{"SMS_PROVIDER", "pigeon"}},
		{name: "webhook", env: webhook},
		{name: "webhook without url", env: with(webhook, "SMS_WEBHOOK_URL", ""), wantErr: []string{"SMS_WEBHOOK_URL is required"}},
		{name: "webhook relative url", env: with(webhook, "SMS_WEBHOOK_URL", "/sms"), wantErr: []string{"SMS_WEBHOOK_URL", "absolute"}},
		{name: "webhook ftp url", env: with(webhook, "SMS_WEBHOOK_URL", "ftp://gw/sms"), wantErr: []string{"SMS_WEBHOOK_URL"}},
		{name: "webhook zero timeout", env: with(webhook, "SMS_WEBHOOK_TIMEOUT", "0s"), wantErr: []string{"SMS_WEBHOOK_TIMEOUT"}},
		{name: "twilio", env: twilio},
		{name: "twilio alphanumeric sender", env: with(twilio, "TWILIO_FROM", "orderbus")},
		{name: "twilio without anything", env: with(base, "SMS_PROVIDER", "twilio"),
			wantErr: []string{"TWILIO_ACCOUNT_SID is required", "TWILIO_AUTH_TOKEN is required", "TWILIO_FROM is required"}},
		{name: "twilio without token", env: with(twilio, "TWILIO_AUTH_TOKEN", ""), wantErr: []string{"TWILIO_AUTH_TOKEN is required"}},
		{name: "twilio bad sid", env: with(twilio, "TWILIO_ACCOUNT_SID", "AC1/../x"), wantErr: []string{"TWILIO_ACCOUNT_SID"}},
		{name: "twilio bad from", env: with(twilio, "TWILIO_FROM", "0044 7700"), wantErr: []string{"TWILIO_FROM"}},
		{name: "twilio bad base url", env: with(twilio, "TWILIO_BASE_URL", "api.twilio.com"), wantErr: []string{"TWILIO_BASE_URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadConfig(servicetest.Getenv(tt.env))
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("loadConfig: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("loadConfig succeeded, want an error naming %q", tt.wantErr)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("loadConfig error = %v, want it to say %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("loadConfig error shows a secret: %v", err)
			}
		})
	}
}

func TestRunRefusesInvalidProviderConfig(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": "postgres://u:p@127.0.0.1:1/sms", "SMS_PROVIDER": "twilio"}
	err := run(context.Background(), nil, servicetest.Getenv(env), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "TWILIO_ACCOUNT_SID is required") {
		t.Fatalf("run = %v, want a config error naming TWILIO_ACCOUNT_SID", err)
	}
}

func TestConfigLogValueMasksSecrets(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(servicetest.Getenv(map[string]string{
		"DATABASE_URL": "postgres://u:dbsecret@db/sms", "SMS_PROVIDER": "twilio",
		"TWILIO_ACCOUNT_SID": "AC123", "TWILIO_AUTH_TOKEN": "twiliosecret", "TWILIO_FROM": "+15005550006",
		"SMS_WEBHOOK_URL": "https://u:hooksecret@gw.example/sms?token=querysecret",
	}))
	if err != nil {
		t.Fatal(err)
	}
	got := c.LogValue().String()
	for _, secret := range []string{"dbsecret", "twiliosecret", "hooksecret", "querysecret"} {
		if strings.Contains(got, secret) {
			t.Errorf("LogValue shows %q: %s", secret, got)
		}
	}
	if !strings.Contains(got, "AC123") {
		t.Errorf("LogValue lacks the account SID: %s", got)
	}
}

// with returns a copy of m with the key, value pairs set.
func with(m map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(m)+len(kv)/2)
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}
