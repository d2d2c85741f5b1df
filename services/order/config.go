package main

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

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
	// DebugAddr, when set, serves net/http/pprof there (web.ServeDebug);
	// it must be a loopback address such as 127.0.0.1:6060. Empty: off.
	DebugAddr string `env:"DEBUG_ADDR"`
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
	return errors.Join(c.Service.Validate(), c.ConsumerSettings.Validate(), c.Settings.Validate(),
		web.CheckDebugAddr(c.DebugAddr))
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
		slog.String("debug_addr", c.DebugAddr),
		slog.Attr{Value: c.Service.LogValue()},
		slog.Attr{Value: c.Settings.LogValue()},
		slog.Attr{Value: c.ConsumerSettings.LogValue()},
	)
}
