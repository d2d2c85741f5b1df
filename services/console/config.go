package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/orderbus/orderbus/pkg/auth"
	"github.com/orderbus/orderbus/pkg/config"
)

// Config is the console's configuration, read from the environment (no
// prefixes). Defaults live in the envDefault tags and nowhere else. The
// console has no database, so it does not embed config.Service; its
// common settings have the same names and defaults.
type Config struct {
	HTTPAddr string `env:"HTTP_ADDR" envDefault:":8085"`
	// NATSURL is the NATS server, or a comma-separated list of them. The
	// console only reads streams and consumer state, and redrives dead
	// letters when an operator asks.
	NATSURL string `env:"NATS_URL" envDefault:"nats://127.0.0.1:4222"`
	// NATS holds the NATS credentials (NATS_USER, NATS_PASSWORD, ...) of
	// the page: the read-only "reader" identity is all it needs.
	NATS config.NATSAuth
	// RedriveUser and RedrivePassword are the NATS identity a redrive
	// connects as, on a connection of its own: an operator identity that
	// may republish dead letters and delete them from the DLQ ("admin" in
	// development). Unset, the page works and a redrive answers 503.
	RedriveUser     string `env:"CONSOLE_REDRIVE_NATS_USER"`
	RedrivePassword string `env:"CONSOLE_REDRIVE_NATS_PASSWORD"`
	// Environment is ORDERBUS_ENV: "development" allows the published
	// development key and passwords.
	Environment     string        `env:"ORDERBUS_ENV"`
	LogLevel        string        `env:"LOG_LEVEL" envDefault:"info"`
	LogFormat       string        `env:"LOG_FORMAT" envDefault:"json"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"20s"`

	// Services lists the services whose /metrics the console scrapes for
	// outbox backlog, paused consumers and open erasures:
	// name=url,name=url...
	Services string `env:"CONSOLE_SERVICES" envDefault:"order=http://127.0.0.1:8080,inventory=http://127.0.0.1:8081,gdpr=http://127.0.0.1:8082,email=http://127.0.0.1:8083,sms=http://127.0.0.1:8084"`
	// Orders is how many recent orders' journeys the page shows.
	Orders int `env:"CONSOLE_ORDERS" envDefault:"50"`
	// Replay is how many of each stream's last messages are read at start.
	Replay uint64 `env:"CONSOLE_REPLAY" envDefault:"1000"`
	// DeadLetters is how many of the newest dead letters the page lists
	// (the count covers them all).
	DeadLetters int `env:"CONSOLE_DEAD_LETTERS" envDefault:"50"`
	// Erasures is how many open erasures are kept.
	Erasures int `env:"CONSOLE_ERASURES" envDefault:"100"`
	// ErasureParticipants are the services every erasure waits for, as the
	// gdpr service's GDPR_PARTICIPANTS.
	ErasureParticipants string `env:"CONSOLE_ERASURE_PARTICIPANTS" envDefault:"order,email,sms,inventory"`
	// PollInterval is how often consumers, the DLQ and /metrics are read.
	PollInterval time.Duration `env:"CONSOLE_POLL_INTERVAL" envDefault:"1s"`
	// Auth verifies the operator's bearer token (AUTH_JWT_KEY...): a
	// redrive needs the dlq:write role.
	Auth auth.Settings
}

// loadConfig reads the configuration with getenv and validates it.
func loadConfig(getenv func(string) string) (Config, error) {
	cfg, err := config.Load[Config](getenv)
	if err != nil {
		return Config{}, err
	}
	cfg.Auth.Environment = cfg.Environment // ORDERBUS_ENV, read once here
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("invalid config: %w", err)
	}
	return cfg, nil
}

// Validate returns an error naming every invalid setting.
func (c Config) Validate() error {
	errs := []error{c.Auth.Validate(), c.NATS.Validate(c.Auth.Environment, c.NATSURL)}
	if err := c.redriveAuth().Validate(c.Auth.Environment, ""); err != nil {
		errs = append(errs, fmt.Errorf("CONSOLE_REDRIVE_NATS_USER and CONSOLE_REDRIVE_NATS_PASSWORD: %w", err))
	}
	if _, err := parseServices(c.Services); err != nil {
		errs = append(errs, err)
	}
	if c.Orders < 1 {
		errs = append(errs, fmt.Errorf("CONSOLE_ORDERS %d: want >= 1", c.Orders))
	}
	if c.DeadLetters < 1 {
		errs = append(errs, fmt.Errorf("CONSOLE_DEAD_LETTERS %d: want >= 1", c.DeadLetters))
	}
	if c.Erasures < 1 {
		errs = append(errs, fmt.Errorf("CONSOLE_ERASURES %d: want >= 1", c.Erasures))
	}
	if c.PollInterval < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("CONSOLE_POLL_INTERVAL %s: want at least 10ms", c.PollInterval))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("SHUTDOWN_TIMEOUT %s: want > 0", c.ShutdownTimeout))
	}
	return errors.Join(errs...)
}

// redriveAuth returns the credentials of the redrive connection, with
// the page's TLS settings; its User is empty when redrive is off.
func (c Config) redriveAuth() config.NATSAuth {
	return config.NATSAuth{User: c.RedriveUser, Password: c.RedrivePassword,
		TLSCAFile: c.NATS.TLSCAFile, TLSCertFile: c.NATS.TLSCertFile, TLSKeyFile: c.NATS.TLSKeyFile}
}

// participants returns CONSOLE_ERASURE_PARTICIPANTS as a list.
func (c Config) participants() []string {
	var out []string
	for _, p := range strings.Split(c.ErasureParticipants, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// LogValue logs the configuration with secrets masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("http_addr", c.HTTPAddr),
		slog.String("nats_url", config.Redact(c.NATSURL)),
		slog.Attr{Key: "nats", Value: c.NATS.LogValue()},
		slog.String("console_redrive_nats_user", c.RedriveUser),
		slog.String("log_level", c.LogLevel),
		slog.String("log_format", c.LogFormat),
		slog.String("shutdown_timeout", c.ShutdownTimeout.String()),
		slog.String("console_services", c.Services),
		slog.Int("console_orders", c.Orders),
		slog.Uint64("console_replay", c.Replay),
		slog.Int("console_dead_letters", c.DeadLetters),
		slog.Int("console_erasures", c.Erasures),
		slog.String("console_erasure_participants", c.ErasureParticipants),
		slog.String("console_poll_interval", c.PollInterval.String()),
		slog.Attr{Key: "auth", Value: c.Auth.LogValue()},
	)
}
