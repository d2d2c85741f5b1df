package config

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/orderbus/orderbus/pkg/events"
)

// Service holds the settings every orderbus service reads from the same
// environment variables; embed it in the service's config struct, whose
// own fields (HTTP_ADDR with its per-service default, among others) sit
// beside it. Load fills embedded structs like any other field.
type Service struct {
	// DatabaseURL is the PostgreSQL URL of the service's database
	// (required; a secret: it may hold a password).
	DatabaseURL string `env:"DATABASE_URL,required"`
	// DBStatementTimeout is PostgreSQL's statement_timeout on every
	// connection of the service's pool (see pgdb.Limits).
	DBStatementTimeout time.Duration `env:"DB_STATEMENT_TIMEOUT" envDefault:"10s"`
	// DBAcquireTimeout bounds taking a connection from the pool, making
	// one included (see pgdb.Limits).
	DBAcquireTimeout time.Duration `env:"DB_ACQUIRE_TIMEOUT" envDefault:"5s"`
	// NATSURL is the NATS server, or a comma-separated list of them.
	NATSURL string `env:"NATS_URL" envDefault:"nats://127.0.0.1:4222"`
	// NATS holds the credentials of the service's NATS identity
	// (NATS_USER and NATS_PASSWORD, NATS_CREDS or NATS_NKEY_SEED).
	NATS NATSAuth
	// Environment is ORDERBUS_ENV: EnvDevelopment allows the published
	// development secrets (`make run`, docker compose); anything else
	// (the default, empty) refuses them.
	Environment string `env:"ORDERBUS_ENV"`
	// LogLevel is debug, info, warn or error (see NewLogger).
	LogLevel string `env:"LOG_LEVEL" envDefault:"info"`
	// LogFormat is json or text (see NewLogger).
	LogFormat string `env:"LOG_FORMAT" envDefault:"json"`
	// ShutdownTimeout bounds how long in-flight work may finish after
	// SIGTERM, and again how long the NATS connection may drain.
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"20s"`
	// Retention is how long the streams keep messages (STREAM_MAX_AGE,
	// DLQ_MAX_AGE, DLQ_MAX_BYTES); every service creates the streams with
	// events.Streams(Retention).
	Retention events.Retention
}

// Validate returns an error naming each variable whose setting is out of
// range, joined. The log level and format are checked by NewLogger.
func (s Service) Validate() error {
	var errs []error
	if s.DBStatementTimeout < time.Millisecond {
		errs = append(errs, fmt.Errorf("DB_STATEMENT_TIMEOUT %s: want at least 1ms", s.DBStatementTimeout))
	}
	if s.DBAcquireTimeout <= 0 {
		errs = append(errs, fmt.Errorf("DB_ACQUIRE_TIMEOUT %s: want > 0", s.DBAcquireTimeout))
	}
	if s.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("SHUTDOWN_TIMEOUT %s: want > 0", s.ShutdownTimeout))
	}
	if err := s.NATS.Validate(s.Environment, s.NATSURL); err != nil {
		errs = append(errs, err)
	}
	if err := checkDatabaseURL(s.Environment, s.DatabaseURL); err != nil {
		errs = append(errs, err)
	}
	if err := s.Retention.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// LogValue logs the settings with the secrets in the URLs redacted (each
// URL of a NATS_URL list on its own). A service's own LogValue can inline
// it as an attribute with an empty key.
func (s Service) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("database_url", Redact(s.DatabaseURL)),
		slog.String("db_statement_timeout", s.DBStatementTimeout.String()),
		slog.String("db_acquire_timeout", s.DBAcquireTimeout.String()),
		slog.String("nats_url", redactList(s.NATSURL)),
		slog.Attr{Value: s.NATS.LogValue()},
		slog.String("orderbus_env", s.Environment),
		slog.String("log_level", s.LogLevel),
		slog.String("log_format", s.LogFormat),
		slog.String("shutdown_timeout", s.ShutdownTimeout.String()), // "20s" in JSON too
		slog.Attr{Value: s.Retention.LogValue()},
	)
}

// redactList redacts each URL of a comma-separated list.
func redactList(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		parts[i] = Redact(strings.TrimSpace(p))
	}
	return strings.Join(parts, ",")
}
