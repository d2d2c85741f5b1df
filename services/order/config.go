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

// Config is the order service's configuration, read from the environment
// (no prefixes). Defaults live in the envDefault tags and nowhere else. The
// consumer settings tune both consumers: the inventory results' and the
// erasure requests'.
type Config struct {
	config.Service
	natsjs.ConsumerSettings
	outbox.Settings

	HTTPAddr string `env:"HTTP_ADDR" envDefault:":8080"`
	// Auth holds the token keys (AUTH_JWT_KEY...).
	Auth auth.Settings
	// HTTP bounds the HTTP server (HTTP_READ_TIMEOUT...).
	HTTP web.ServerSettings
	// RateLimit holds RATE_LIMIT_WINDOW and RATE_LIMIT_IP_HEADER.
	RateLimit web.RateLimitSettings
	// RateLimitOrders is how many orders one client may place per
	// RATE_LIMIT_WINDOW; 0 turns the limit off.
	RateLimitOrders int `env:"RATE_LIMIT_ORDERS" envDefault:"30"`
	// OrderTokenTTL is how long the order token of a 202 stays valid.
	OrderTokenTTL time.Duration `env:"ORDER_TOKEN_TTL" envDefault:"720h"`
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
	errs := []error{c.Service.Validate(), c.ConsumerSettings.Validate(), c.Settings.Validate(),
		c.Auth.Validate(), c.HTTP.Validate(), c.RateLimit.Validate()}
	if c.RateLimitOrders < 0 {
		errs = append(errs, fmt.Errorf("RATE_LIMIT_ORDERS %d: want >= 0 (0 = off)", c.RateLimitOrders))
	}
	if c.OrderTokenTTL < time.Minute {
		errs = append(errs, fmt.Errorf("ORDER_TOKEN_TTL %s: want at least 1m", c.OrderTokenTTL))
	}
	return errors.Join(errs...)
}

// ackWait is the consumers' AckWait: above the slowest handler, one
// transaction (changeTimeout or eraseTimeout) and then up to
// PUBLISH_TIMEOUT for a PubAck, and never below natsjs.DefaultAckWait.
// The runner also sends InProgress while a handler runs.
func (c Config) ackWait() time.Duration {
	return max(natsjs.DefaultAckWait, 3*c.PublishTimeout)
}

// LogValue logs the configuration with the credentials in the URLs
// redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("http_addr", c.HTTPAddr),
		slog.Attr{Value: c.Service.LogValue()},
		slog.Attr{Value: c.Settings.LogValue()},
		slog.Attr{Value: c.ConsumerSettings.LogValue()},
		slog.Attr{Value: c.Auth.LogValue()},
		slog.Attr{Value: c.HTTP.LogValue()},
		slog.Attr{Value: c.RateLimit.LogValue()},
		slog.Int("rate_limit_orders", c.RateLimitOrders),
		slog.String("order_token_ttl", c.OrderTokenTTL.String()),
	)
}
