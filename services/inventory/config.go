package main

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/orderbus/orderbus/pkg/config"
	"github.com/orderbus/orderbus/pkg/natsjs"
)

// Config is the inventory service's configuration, read from the
// environment (no prefixes). Defaults live in the envDefault tags and
// nowhere else.
type Config struct {
	config.Service
	natsjs.ConsumerSettings

	HTTPAddr string `env:"HTTP_ADDR" envDefault:":8081"`
	// PublishTimeout is how long a handler waits for the PubAck of the
	// reservation result it has just committed before acknowledging the
	// order anyway (the outbox relay publishes the result later).
	PublishTimeout time.Duration `env:"PUBLISH_TIMEOUT" envDefault:"2s"`
	// OutboxInterval is how often the outbox relay looks for unpublished events.
	OutboxInterval time.Duration `env:"OUTBOX_INTERVAL" envDefault:"1s"`
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
	errs := []error{c.Service.Validate(), c.ConsumerSettings.Validate()}
	if c.PublishTimeout <= 0 {
		errs = append(errs, fmt.Errorf("PUBLISH_TIMEOUT %s: want > 0", c.PublishTimeout))
	}
	if c.OutboxInterval <= 0 {
		errs = append(errs, fmt.Errorf("OUTBOX_INTERVAL %s: want > 0", c.OutboxInterval))
	}
	return errors.Join(errs...)
}

// ackWait is the consumers' AckWait: above the slowest handler, which runs
// one transaction (reserveTimeout, or eraseTimeout for an erasure) and
// then waits for a PubAck (PUBLISH_TIMEOUT), and never below 30 s. The runner also sends
// InProgress while a handler runs.
func (c Config) ackWait() time.Duration {
	return max(30*time.Second, 2*(max(reserveTimeout, eraseTimeout)+c.PublishTimeout))
}

// LogValue logs the configuration with the credentials in the URLs
// redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("http_addr", c.HTTPAddr),
		slog.Attr{Value: c.Service.LogValue()},
		slog.Duration("publish_timeout", c.PublishTimeout),
		slog.Duration("outbox_interval", c.OutboxInterval),
		slog.Attr{Value: c.ConsumerSettings.LogValue()},
	)
}
