package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/orderbus/orderbus/pkg/auth"
	"github.com/orderbus/orderbus/pkg/config"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/web"
)

// Config is the email service's configuration, read from the environment
// (no prefixes). Defaults live in the envDefault tags and nowhere else.
type Config struct {
	config.Service
	natsjs.ConsumerSettings
	outbox.Settings

	HTTPAddr string `env:"HTTP_ADDR" envDefault:":8083"`
	// Auth holds the token keys (AUTH_JWT_KEY...).
	Auth auth.Settings
	// HTTP bounds the HTTP server (HTTP_READ_TIMEOUT...).
	HTTP web.ServerSettings

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
	errs := []error{c.Service.Validate(), c.ConsumerSettings.Validate(), c.Settings.Validate(), c.Auth.Validate(), c.HTTP.Validate()}
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
	if _, err := mail.ParseAddress(c.MailFrom); err != nil {
		errs = append(errs, fmt.Errorf("MAIL_FROM %q: %w", c.MailFrom, err))
	}
	if !isHostName(c.MailDomain) {
		errs = append(errs, fmt.Errorf("MAIL_DOMAIN %q: want a host name", c.MailDomain))
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

// ackWait is the consumers' AckWait: above the slowest handler, a mail
// handler, which may dial (SMTP_TIMEOUT) and then wait on a few SMTP
// commands, or the erasure handler, which runs one transaction and then
// waits for a PubAck (PUBLISH_TIMEOUT); never below 30 s. The runner also
// sends InProgress while a handler runs.
func (c Config) ackWait() time.Duration {
	return max(30*time.Second, 3*c.SMTPTimeout, 3*c.PublishTimeout)
}

// LogValue logs the configuration with the database password and the SMTP
// password masked.
func (c Config) LogValue() slog.Value {
	password := ""
	if c.SMTPPassword != "" {
		password = config.Mask
	}
	return slog.GroupValue(
		slog.String("http_addr", c.HTTPAddr),
		slog.Attr{Value: c.Auth.LogValue()},
		slog.Attr{Value: c.HTTP.LogValue()},
		slog.Attr{Value: c.Service.LogValue()},
		slog.String("smtp_host", c.SMTPHost),
		slog.Int("smtp_port", c.SMTPPort),
		slog.String("smtp_username", c.SMTPUsername),
		slog.String("smtp_password", password),
		slog.String("smtp_tls", c.SMTPTLS),
		slog.Duration("smtp_timeout", c.SMTPTimeout),
		slog.String("mail_from", c.MailFrom),
		slog.String("mail_domain", c.MailDomain),
		slog.Attr{Value: c.Settings.LogValue()},
		slog.Attr{Value: c.ConsumerSettings.LogValue()},
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
