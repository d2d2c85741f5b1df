package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/orderbus/orderbus/pkg/config"
	"github.com/orderbus/orderbus/pkg/natsjs"
)

// serviceConfig is the order service's configuration, read from the
// environment; the defaults live in the envDefault tags and nowhere else.
type serviceConfig struct {
	// HTTPAddr is the address the HTTP API listens on.
	HTTPAddr string `env:"HTTP_ADDR" envDefault:":8080"`
	// DatabaseURL is the PostgreSQL URL of the orders database (a secret:
	// it may hold a password).
	DatabaseURL string `env:"DATABASE_URL,required,notEmpty"`
	// NATSURL is the NATS server (list) to connect to.
	NATSURL string `env:"NATS_URL" envDefault:"nats://127.0.0.1:4222"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `env:"LOG_LEVEL" envDefault:"info"`
	// LogFormat is json or text.
	LogFormat string `env:"LOG_FORMAT" envDefault:"json"`
	// ShutdownTimeout bounds how long in-flight requests may finish after
	// SIGTERM, and again how long the NATS connection may drain.
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"20s"`
	// PublishTimeout is how long POST /v1/orders waits for the PubAck before
	// answering 202 anyway (the outbox relay publishes later).
	PublishTimeout time.Duration `env:"PUBLISH_TIMEOUT" envDefault:"2s"`
	// OutboxInterval is how often the outbox relay looks for unpublished events.
	OutboxInterval time.Duration `env:"OUTBOX_INTERVAL" envDefault:"1s"`
	// ConsumerConcurrency is how many inventory results are handled at once.
	ConsumerConcurrency int `env:"CONSUMER_CONCURRENCY" envDefault:"8"`
	// ConsumerMaxDeliver is how many times an inventory result is tried
	// before it is dead-lettered.
	ConsumerMaxDeliver int `env:"CONSUMER_MAX_DELIVER" envDefault:"10"`
	// ConsumerBackoff holds the redelivery delays after a transient failure
	// of the first, second, ... delivery; the last one repeats.
	ConsumerBackoff []time.Duration `env:"CONSUMER_BACKOFF" envDefault:"1s,2s,5s,10s,30s,1m" envSeparator:","`
}

// loadConfig reads the configuration with getenv and checks it.
func loadConfig(getenv func(string) string) (serviceConfig, error) {
	cfg, err := config.Load[serviceConfig](getenv)
	if err != nil {
		return cfg, err
	}
	var errs []error
	for _, d := range []struct {
		name  string
		value time.Duration
	}{
		{"SHUTDOWN_TIMEOUT", cfg.ShutdownTimeout},
		{"PUBLISH_TIMEOUT", cfg.PublishTimeout},
		{"OUTBOX_INTERVAL", cfg.OutboxInterval},
	} {
		if d.value <= 0 {
			errs = append(errs, errors.New(d.name+" must be positive, got "+d.value.String()))
		}
	}
	if cfg.ConsumerConcurrency < 1 {
		errs = append(errs, fmt.Errorf("CONSUMER_CONCURRENCY %d: want >= 1", cfg.ConsumerConcurrency))
	}
	if cfg.ConsumerMaxDeliver < 1 {
		errs = append(errs, fmt.Errorf("CONSUMER_MAX_DELIVER %d: want >= 1", cfg.ConsumerMaxDeliver))
	}
	if len(cfg.ConsumerBackoff) == 0 {
		errs = append(errs, errors.New("CONSUMER_BACKOFF must list at least one duration"))
	}
	for _, d := range cfg.ConsumerBackoff {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("CONSUMER_BACKOFF %s: want durations > 0", d))
			break
		}
	}
	return cfg, errors.Join(errs...)
}

// ackWait is the inventory consumer's AckWait: above the slowest handler,
// one transaction and then up to PUBLISH_TIMEOUT waiting for the PubAck of
// the event it publishes, and never below natsjs's default. The runner
// also sends InProgress while a handler runs.
func (c serviceConfig) ackWait() time.Duration {
	return max(natsjs.DefaultAckWait, 3*c.PublishTimeout)
}

// LogValue implements slog.LogValuer so the configuration can be logged
// whole, with the credentials in the URLs redacted.
func (c serviceConfig) LogValue() slog.Value {
	backoff := make([]string, len(c.ConsumerBackoff))
	for i, d := range c.ConsumerBackoff {
		backoff[i] = d.String()
	}
	return slog.GroupValue(
		slog.String("http_addr", c.HTTPAddr),
		slog.String("database_url", config.Redact(c.DatabaseURL)),
		slog.String("nats_url", redactList(c.NATSURL)),
		slog.String("log_level", c.LogLevel),
		slog.String("log_format", c.LogFormat),
		slog.String("shutdown_timeout", c.ShutdownTimeout.String()),
		slog.String("publish_timeout", c.PublishTimeout.String()),
		slog.String("outbox_interval", c.OutboxInterval.String()),
		slog.Int("consumer_concurrency", c.ConsumerConcurrency),
		slog.Int("consumer_max_deliver", c.ConsumerMaxDeliver),
		slog.Any("consumer_backoff", backoff),
	)
}

// redactList redacts each URL of a comma-separated list (NATS_URL may name
// several servers).
func redactList(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		parts[i] = config.Redact(strings.TrimSpace(p))
	}
	return strings.Join(parts, ",")
}
