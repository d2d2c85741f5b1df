package main

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/orderbus/orderbus/pkg/config"
	"github.com/orderbus/orderbus/pkg/natsjs"
)

// serviceConfig is the order service's configuration, read from the
// environment; the defaults live in the envDefault tags and nowhere else.
// The consumer settings tune both consumers: the inventory results' and
// the erasure requests'.
type serviceConfig struct {
	config.Service
	natsjs.ConsumerSettings

	// HTTPAddr is the address the HTTP API listens on.
	HTTPAddr string `env:"HTTP_ADDR" envDefault:":8080"`
	// PublishTimeout is how long POST /v1/orders waits for the PubAck before
	// answering 202 anyway (the outbox relay publishes later).
	PublishTimeout time.Duration `env:"PUBLISH_TIMEOUT" envDefault:"2s"`
	// OutboxInterval is how often the outbox relay looks for unpublished events.
	OutboxInterval time.Duration `env:"OUTBOX_INTERVAL" envDefault:"1s"`
}

// loadConfig reads the configuration with getenv and checks it.
func loadConfig(getenv func(string) string) (serviceConfig, error) {
	cfg, err := config.Load[serviceConfig](getenv)
	if err != nil {
		return cfg, err
	}
	errs := []error{cfg.Service.Validate(), cfg.ConsumerSettings.Validate()}
	if cfg.PublishTimeout <= 0 {
		errs = append(errs, fmt.Errorf("PUBLISH_TIMEOUT %s: want > 0", cfg.PublishTimeout))
	}
	if cfg.OutboxInterval <= 0 {
		errs = append(errs, fmt.Errorf("OUTBOX_INTERVAL %s: want > 0", cfg.OutboxInterval))
	}
	return cfg, errors.Join(errs...)
}

// ackWait is the consumers' AckWait: above the slowest handler, one
// transaction (changeTimeout or eraseTimeout, 10 s) and then up to
// PUBLISH_TIMEOUT waiting for the PubAck of the event it publishes, and
// never below natsjs's default. The runner also sends InProgress while a
// handler runs.
func (c serviceConfig) ackWait() time.Duration {
	return max(natsjs.DefaultAckWait, 3*c.PublishTimeout)
}

// LogValue implements slog.LogValuer so the configuration can be logged
// whole, with the credentials in the URLs redacted.
func (c serviceConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("http_addr", c.HTTPAddr),
		slog.Attr{Value: c.Service.LogValue()},
		slog.String("publish_timeout", c.PublishTimeout.String()),
		slog.String("outbox_interval", c.OutboxInterval.String()),
		slog.Attr{Value: c.ConsumerSettings.LogValue()},
	)
}
