package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/orderbus/orderbus/pkg/auth"
	"github.com/orderbus/orderbus/pkg/config"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/web"
)

// Config is the SMS service's configuration, read from the environment
// (no prefixes). Defaults live in the envDefault tags and nowhere else.
type Config struct {
	config.Service
	natsjs.ConsumerSettings
	outbox.Settings

	HTTPAddr string `env:"HTTP_ADDR" envDefault:":8084"`
	// Auth holds the token keys (AUTH_JWT_KEY...).
	Auth auth.Settings
	// HTTP bounds the HTTP server (HTTP_READ_TIMEOUT...).
	HTTP web.ServerSettings

	// SMSProvider is log (log each message, deliver nothing), webhook or
	// twilio.
	SMSProvider string `env:"SMS_PROVIDER" envDefault:"log"`
	// WebhookURL is where the webhook provider POSTs (required for it).
	WebhookURL string `env:"SMS_WEBHOOK_URL"`
	// WebhookTimeout bounds one webhook request, answer included.
	WebhookTimeout time.Duration `env:"SMS_WEBHOOK_TIMEOUT" envDefault:"5s"`
	// The twilio provider's account, secret token and sender (an E.164
	// number or an alphanumeric sender ID); all required for it.
	TwilioAccountSID string `env:"TWILIO_ACCOUNT_SID"`
	TwilioAuthToken  string `env:"TWILIO_AUTH_TOKEN"`
	TwilioFrom       string `env:"TWILIO_FROM"`
	// TwilioBaseURL is the Twilio API's root, replaceable for a proxy.
	TwilioBaseURL string `env:"TWILIO_BASE_URL" envDefault:"https://api.twilio.com"`
}

// twilioTimeout bounds one Twilio request, answer included. Twilio answers
// in well under a second; it is not configurable.
const twilioTimeout = 10 * time.Second

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

// Validate returns an error naming every invalid setting, including the
// settings the chosen SMS_PROVIDER needs.
func (c Config) Validate() error {
	errs := []error{c.Service.Validate(), c.validateProvider(), c.ConsumerSettings.Validate(), c.Settings.Validate(), c.Auth.Validate(), c.HTTP.Validate()}
	return errors.Join(errs...)
}

// validateProvider checks SMS_PROVIDER and the settings it needs; those of
// the other providers are ignored.
func (c Config) validateProvider() error {
	var errs []error
	switch c.SMSProvider {
	case providerLog:
	case providerWebhook:
		if c.WebhookURL == "" {
			errs = append(errs, errors.New("SMS_WEBHOOK_URL is required with SMS_PROVIDER=webhook"))
		} else if err := checkHTTPURL(c.WebhookURL); err != nil {
			errs = append(errs, fmt.Errorf("SMS_WEBHOOK_URL %q: %w", config.Redact(c.WebhookURL), err))
		}
		if c.WebhookTimeout <= 0 {
			errs = append(errs, fmt.Errorf("SMS_WEBHOOK_TIMEOUT %s: want > 0", c.WebhookTimeout))
		}
	case providerTwilio:
		if c.TwilioAccountSID == "" {
			errs = append(errs, errors.New("TWILIO_ACCOUNT_SID is required with SMS_PROVIDER=twilio"))
		} else if !isAlnumString(c.TwilioAccountSID) {
			errs = append(errs, fmt.Errorf("TWILIO_ACCOUNT_SID %q: want letters and digits only (AC...)", c.TwilioAccountSID))
		}
		if c.TwilioAuthToken == "" {
			errs = append(errs, errors.New("TWILIO_AUTH_TOKEN is required with SMS_PROVIDER=twilio"))
		}
		if c.TwilioFrom == "" {
			errs = append(errs, errors.New("TWILIO_FROM is required with SMS_PROVIDER=twilio"))
		} else if !events.ValidPhone(c.TwilioFrom) && !isSenderID(c.TwilioFrom) {
			errs = append(errs, fmt.Errorf("TWILIO_FROM %q: want an E.164 number or an alphanumeric sender ID", c.TwilioFrom))
		}
		if err := checkHTTPURL(c.TwilioBaseURL); err != nil {
			errs = append(errs, fmt.Errorf("TWILIO_BASE_URL %q: %w", config.Redact(c.TwilioBaseURL), err))
		}
	default:
		errs = append(errs, fmt.Errorf("SMS_PROVIDER %q: want log, webhook or twilio", c.SMSProvider))
	}
	return errors.Join(errs...)
}

// providerTimeout is how long one Send may wait for the provider.
func (c Config) providerTimeout() time.Duration {
	switch c.SMSProvider {
	case providerWebhook:
		return c.WebhookTimeout
	case providerTwilio:
		return twilioTimeout
	}
	return 0
}

// ackWait is the consumers' AckWait: above the slowest handler, the SMS
// handler, which waits on the provider for up to providerTimeout, or the
// erasure handler, which runs one transaction and then waits for a PubAck
// (PUBLISH_TIMEOUT); never below 30 s. The runner also sends InProgress
// while a handler runs.
func (c Config) ackWait() time.Duration {
	return max(30*time.Second, 3*c.providerTimeout(), 3*c.PublishTimeout)
}

// LogValue logs the configuration with the database password, secrets in
// URLs and the Twilio auth token masked.
func (c Config) LogValue() slog.Value {
	token := ""
	if c.TwilioAuthToken != "" {
		token = config.Mask
	}
	return slog.GroupValue(
		slog.String("http_addr", c.HTTPAddr),
		slog.Attr{Value: c.Auth.LogValue()},
		slog.Attr{Value: c.HTTP.LogValue()},
		slog.Attr{Value: c.Service.LogValue()},
		slog.String("sms_provider", c.SMSProvider),
		slog.String("sms_webhook_url", config.Redact(c.WebhookURL)),
		slog.Duration("sms_webhook_timeout", c.WebhookTimeout),
		slog.String("twilio_account_sid", c.TwilioAccountSID),
		slog.String("twilio_auth_token", token),
		slog.String("twilio_from", c.TwilioFrom),
		slog.String("twilio_base_url", config.Redact(c.TwilioBaseURL)),
		slog.Attr{Value: c.Settings.LogValue()},
		slog.Attr{Value: c.ConsumerSettings.LogValue()},
	)
}

// checkHTTPURL returns an error unless raw is an absolute http or https
// URL with a host.
func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("want an absolute http or https URL")
	}
	return nil
}

// isSenderID reports whether s is an alphanumeric sender ID as Twilio
// takes them: 1 to 11 letters, digits and spaces, at least one letter.
func isSenderID(s string) bool {
	if len(s) > 11 {
		return false
	}
	letter := false
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			letter = true
		case r >= '0' && r <= '9' || r == ' ':
		default:
			return false
		}
	}
	return letter
}

// isAlnumString reports whether s is made of ASCII letters and digits.
func isAlnumString(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}
