package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/orderbus/orderbus/pkg/servicetest"
)

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	base := map[string]string{"DATABASE_URL": "postgres://u:secret@db/email"}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // substring; "" = valid
		check   func(t *testing.T, c Config)
	}{
		{name: "defaults", env: base, check: func(t *testing.T, c Config) {
			if c.HTTPAddr != ":8083" || c.SMTPHost != "localhost" || c.SMTPPort != 1025 || c.SMTPTLS != "none" ||
				c.SMTPTimeout != 10*time.Second || c.MailFrom != "orderbus <orders@orderbus.example>" ||
				c.MailDomain != "orderbus.example" || c.Concurrency != 8 || c.PauseAfter != 5 ||
				c.ShutdownTimeout != 20*time.Second || c.NATSURL != "nats://127.0.0.1:4222" ||
				c.PublishTimeout != 2*time.Second || c.Interval != time.Second {
				t.Errorf("defaults = %+v", c)
			}
			want := []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute}
			if !slices.Equal(c.BackOff, want) {
				t.Errorf("backoff = %v, want %v", c.BackOff, want)
			}
			if p, _ := c.tlsPolicy(); p != gomail.NoTLS {
				t.Errorf("TLS policy = %v, want NoTLS", p)
			}
			if c.ackWait() != 30*time.Second {
				t.Errorf("ack wait = %v, want 30s", c.ackWait())
			}
		}},
		{name: "overrides", env: with(base, "SMTP_TLS", "mandatory", "CONSUMER_BACKOFF", "100ms,2s", "SMTP_TIMEOUT", "20s"),
			check: func(t *testing.T, c Config) {
				if p, _ := c.tlsPolicy(); p != gomail.TLSMandatory {
					t.Errorf("TLS policy = %v, want mandatory", p)
				}
				if !slices.Equal(c.BackOff, []time.Duration{100 * time.Millisecond, 2 * time.Second}) {
					t.Errorf("backoff = %v", c.BackOff)
				}
				if c.ackWait() != time.Minute {
					t.Errorf("ack wait = %v, want 3 x SMTP_TIMEOUT", c.ackWait())
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
		{name: "unknown tls policy", env: with(base, "SMTP_TLS", "starttls"), wantErr: "SMTP_TLS"},
		{name: "bad backoff", env: with(base, "CONSUMER_BACKOFF", "1s,soon"), wantErr: "BackOff"},
		{name: "negative backoff", env: with(base, "CONSUMER_BACKOFF", "-1s"), wantErr: "CONSUMER_BACKOFF"},
		{name: "zero concurrency", env: with(base, "CONSUMER_CONCURRENCY", "0"), wantErr: "CONSUMER_CONCURRENCY"},
		{name: "bad from", env: with(base, "MAIL_FROM", "not an address"), wantErr: "MAIL_FROM"},
		{name: "bad domain", env: with(base, "MAIL_DOMAIN", "a b>"), wantErr: "MAIL_DOMAIN"},
		{name: "port out of range", env: with(base, "SMTP_PORT", "70000"), wantErr: "SMTP_PORT"},
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

func TestConfigLogValueMasksSecrets(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(servicetest.Getenv(map[string]string{"DATABASE_URL": "postgres://u:dbsecret@db/email", "SMTP_USERNAME": "u", "SMTP_PASSWORD": "smtpsecret"}))
	if err != nil {
		t.Fatal(err)
	}
	got := c.LogValue().String()
	for _, secret := range []string{"dbsecret", "smtpsecret"} {
		if strings.Contains(got, secret) {
			t.Errorf("LogValue shows %q: %s", secret, got)
		}
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
