package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/orderbus/orderbus/pkg/config"
)

// Config is the email service's configuration, read from the environment
// (no prefixes). Defaults live in the envDefault tags and nowhere else.
type Config struct {
	HTTPAddr        string        `env:"HTTP_ADDR" envDefault:":8083"`
	DatabaseURL     string        `env:"DATABASE_URL,required"`
	NATSURL         string        `env:"NATS_URL" envDefault:"nats://127.0.0.1:4222"`
	LogLevel        string        `env:"LOG_LEVEL" envDefault:"info"`
	LogFormat       string        `env:"LOG_FORMAT" envDefault:"json"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"20s"`

	SMTPHost     string `env:"SMTP_HOST" envDefault:"localhost"`
	SMTPPort     int    `env:"SMTP_PORT" envDefault:"1025"`
	SMTPUsername string `env:"SMTP_USERNAME"`
	SMTPPassword string `env:"SMTP_PASSWORD"`
	// SMTPTLS is none (plain SMTP, for Mailpit and MailHog), opportunistic
	// (STARTTLS when offered) or mandatory (STARTTLS or fail).
	SMTPTLS string `env:"SMTP_TLS" envDefault:"none"`
	// SMTPTimeout bounds dialing and every SMTP command.
	SMTPTimeout time.Duration `env:"SMTP_TIMEOUT" envDefault:"10s"`
	MailFrom    string        `env:"MAIL_FROM" envDefault:"orderbus <orders@orderbus.example>"`
	// MailDomain is the right-hand side of every Message-ID (<event id@domain>).
	MailDomain string `env:"MAIL_DOMAIN" envDefault:"orderbus.example"`

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
	if c.SMTPHost == "" {
		errs = append(errs, errors.New("SMTP_HOST must not be empty"))
	}
	if c.SMTPPort < 1 || c.SMTPPort > 65535 {
		errs = append(errs, fmt.Errorf("SMTP_PORT %d: want 1-65535", c.SMTPPort))
	}
	if _, err := c.tlsPolicy(); err != nil {
		errs = append(errs, err)
	}
	if c.SMTPTimeout <= 0 {
		errs = append(errs, fmt.Errorf("SMTP_TIMEOUT %s: want > 0", c.SMTPTimeout))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("SHUTDOWN_TIMEOUT %s: want > 0", c.ShutdownTimeout))
	}
	if _, err := mail.ParseAddress(c.MailFrom); err != nil {
		errs = append(errs, fmt.Errorf("MAIL_FROM %q: %w", c.MailFrom, err))
	}
	if !isHostName(c.MailDomain) {
		errs = append(errs, fmt.Errorf("MAIL_DOMAIN %q: want a host name", c.MailDomain))
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

// tlsPolicy maps SMTP_TLS to go-mail's policy.
func (c Config) tlsPolicy() (gomail.TLSPolicy, error) {
	switch c.SMTPTLS {
	case "none":
		return gomail.NoTLS, nil
	case "opportunistic":
		return gomail.TLSOpportunistic, nil
	case "mandatory":
		return gomail.TLSMandatory, nil
	}
	return 0, fmt.Errorf("SMTP_TLS %q: want none, opportunistic or mandatory", c.SMTPTLS)
}

// ackWait is the consumer's AckWait: above the slowest handler, which may
// dial (SMTP_TIMEOUT) and then wait on a few SMTP commands, and never below
// 30 s. The runner also sends InProgress while a handler runs.
func (c Config) ackWait() time.Duration {
	return max(30*time.Second, 3*c.SMTPTimeout)
}

// LogValue logs the configuration with the database password and the SMTP
// password masked.
func (c Config) LogValue() slog.Value {
	password := ""
	if c.SMTPPassword != "" {
		password = "xxxxx"
	}
	backoff := make([]string, len(c.ConsumerBackoff))
	for i, d := range c.ConsumerBackoff {
		backoff[i] = d.String()
	}
	return slog.GroupValue(
		slog.String("http_addr", c.HTTPAddr),
		slog.String("database_url", config.Redact(c.DatabaseURL)),
		slog.String("nats_url", config.Redact(c.NATSURL)),
		slog.String("smtp_host", c.SMTPHost),
		slog.Int("smtp_port", c.SMTPPort),
		slog.String("smtp_username", c.SMTPUsername),
		slog.String("smtp_password", password),
		slog.String("smtp_tls", c.SMTPTLS),
		slog.Duration("smtp_timeout", c.SMTPTimeout),
		slog.String("mail_from", c.MailFrom),
		slog.String("mail_domain", c.MailDomain),
		slog.Int("consumer_concurrency", c.ConsumerConcurrency),
		slog.Int("consumer_max_deliver", c.ConsumerMaxDeliver),
		slog.Any("consumer_backoff", backoff),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
	)
}

// isHostName reports whether s is a conservative host name (letters,
// digits, dots and inner hyphens): what may follow the @ of a Message-ID
// without quoting.
func isHostName(s string) bool {
	if s == "" || len(s) > 253 || s[0] == '.' || s[0] == '-' || s[len(s)-1] == '.' || s[len(s)-1] == '-' {
		return false
	}
	for _, r := range s {
		if !isAlnum(r) && r != '.' && r != '-' {
			return false
		}
	}
	return true
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}
