package main

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/orderbus/orderbus/pkg/auth"
	"github.com/orderbus/orderbus/pkg/config"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/web"
)

// Config is the inventory service's configuration, read from the
// environment (no prefixes). Defaults live in the envDefault tags and
// nowhere else.
type Config struct {
	config.Service
	natsjs.ConsumerSettings
	outbox.Settings

	HTTPAddr string `env:"HTTP_ADDR" envDefault:":8081"`
	// Auth holds the token keys (AUTH_JWT_KEY...).
	Auth auth.Settings
	// HTTP bounds the HTTP server (HTTP_READ_TIMEOUT...).
	HTTP web.ServerSettings
}

// loadConfig reads the configuration with getenv and validates it.
func loadConfig(getenv func(string) string) (Config, error) {
	cfg, err := config.Load[Config](getenv)
	if err != nil {
		return Config{}, err // names the variable or field that failed
	}
	cfg.Auth.Environment = cfg.Environment // ORDERBUS_ENV, read once by config.Service
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("invalid config: %w", err)
	}
	return cfg, nil
}

// Validate returns an error naming every invalid setting.
func (c Config) Validate() error {
	return errors.Join(c.Service.Validate(), c.ConsumerSettings.Validate(), c.Settings.Validate(), c.Auth.Validate(), c.HTTP.Validate())
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
		slog.Attr{Value: c.Auth.LogValue()},
		slog.Attr{Value: c.HTTP.LogValue()},
		slog.Attr{Value: c.Service.LogValue()},
		slog.Attr{Value: c.Settings.LogValue()},
		slog.Attr{Value: c.ConsumerSettings.LogValue()},
	)
}
