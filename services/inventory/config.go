package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/orderbus/orderbus/pkg/config"
)

// Config is the inventory service's configuration, read from the
// environment (no prefixes). Defaults live in the envDefault tags and
// nowhere else.
type Config struct {
	HTTPAddr string `env:"HTTP_ADDR" envDefault:":8081"`
	// DatabaseURL is the PostgreSQL URL of the inventory database (a
	// secret: it may hold a password).
	DatabaseURL string `env:"DATABASE_URL,required,notEmpty"`
	// NATSURL is the NATS server (or comma-separated list) to connect to.
	NATSURL   string `env:"NATS_URL" envDefault:"nats://127.0.0.1:4222"`
	LogLevel  string `env:"LOG_LEVEL" envDefault:"info"`
	LogFormat string `env:"LOG_FORMAT" envDefault:"json"`
	// ShutdownTimeout bounds how long in-flight requests and messages may
	// finish after SIGTERM, and again how long the NATS connection may drain.
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"20s"`
	// PublishTimeout is how long a handler waits for the PubAck of the
	// reservation result it has just committed before acknowledging the
	// order anyway (the outbox relay publishes the result later).
	PublishTimeout time.Duration `env:"PUBLISH_TIMEOUT" envDefault:"2s"`
	// OutboxInterval is how often the outbox relay looks for unpublished events.
	OutboxInterval time.Duration `env:"OUTBOX_INTERVAL" envDefault:"1s"`

	ConsumerConcurrency int             `env:"CONSUMER_CONCURRENCY" envDefault:"8"`
	ConsumerMaxDeliver  int             `env:"CONSUMER_MAX_DELIVER" envDefault:"10"`
	ConsumerBackoff     []time.Duration `env:"CONSUMER_BACKOFF" envDefault:"1s,2s,5s,10s,30s,1m" envSeparator:","`
}

// loadConfig reads the configuration with getenv and validates it.
func loadConfig(getenv func(string) string) (Config, error) {
	cfg, err := config.Load[Config](getenv)
	if err != nil {
		return Config{}, err // names the variable or field that failed
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("invalid config: %w", err)
	}
	return cfg, nil
}

// Validate returns an error naming every invalid setting.
func (c Config) Validate() error {
	var errs []error
	for _, d := range []struct {
		name  string
		value time.Duration
	}{
		{"SHUTDOWN_TIMEOUT", c.ShutdownTimeout},
		{"PUBLISH_TIMEOUT", c.PublishTimeout},
		{"OUTBOX_INTERVAL", c.OutboxInterval},
	} {
		if d.value <= 0 {
			errs = append(errs, fmt.Errorf("%s %s: want > 0", d.name, d.value))
		}
	}
	if c.ConsumerConcurrency < 1 {
		errs = append(errs, fmt.Errorf("CONSUMER_CONCURRENCY %d: want >= 1", c.ConsumerConcurrency))
	}
	if c.ConsumerMaxDeliver < 1 {
		errs = append(errs, fmt.Errorf("CONSUMER_MAX_DELIVER %d: want >= 1", c.ConsumerMaxDeliver))
	}
	if len(c.ConsumerBackoff) == 0 {
		errs = append(errs, errors.New("CONSUMER_BACKOFF must list at least one duration"))
	}
	for _, d := range c.ConsumerBackoff {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("CONSUMER_BACKOFF %s: want durations > 0", d))
			break
		}
	}
	return errors.Join(errs...)
}

// ackWait is the consumer's AckWait: above the slowest handler, which runs
// one transaction (reserveTimeout) and then waits for a PubAck
// (PUBLISH_TIMEOUT), and never below 30 s. The runner also sends
// InProgress while a handler runs.
func (c Config) ackWait() time.Duration {
	return max(30*time.Second, 2*(reserveTimeout+c.PublishTimeout))
}

// LogValue logs the configuration with the credentials in the URLs
// redacted.
func (c Config) LogValue() slog.Value {
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
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
		slog.Duration("publish_timeout", c.PublishTimeout),
		slog.Duration("outbox_interval", c.OutboxInterval),
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
