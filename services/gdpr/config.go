package main

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/orderbus/orderbus/pkg/auth"
	"github.com/orderbus/orderbus/pkg/config"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/web"
)

// Config is the gdpr service's configuration, read from the environment.
// Defaults live in the envDefault tags (and config.Service's) and nowhere
// else.
type Config struct {
	config.Service
	natsjs.ConsumerSettings
	outbox.Settings

	HTTPAddr string `env:"HTTP_ADDR" envDefault:":8082"`
	// Auth holds the token keys (AUTH_JWT_KEY...).
	Auth auth.Settings
	// HTTP bounds the HTTP server (HTTP_READ_TIMEOUT...).
	HTTP web.ServerSettings
	// RateLimit holds RATE_LIMIT_WINDOW and RATE_LIMIT_IP_HEADER.
	RateLimit web.RateLimitSettings
	// RateLimitErasures is how many erasures one client may request per
	// RATE_LIMIT_WINDOW; 0 turns the limit off.
	RateLimitErasures int `env:"RATE_LIMIT_ERASURES" envDefault:"5"`
	// Participants are the services that must each confirm an erasure,
	// named as in their gdpr.erasure.completed.<service> subject.
	Participants []string `env:"GDPR_PARTICIPANTS" envDefault:"order,email,sms,inventory" envSeparator:","`
}

// validParticipant is the shape of a participant's name: what a durable
// and a subject token can hold without escaping.
var validParticipant = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// loadConfig reads the configuration with getenv and validates it.
// Participant names are trimmed of spaces.
func loadConfig(getenv func(string) string) (Config, error) {
	cfg, err := config.Load[Config](getenv)
	if err != nil {
		return Config{}, err // names every variable that failed
	}
	cfg.Auth.Environment = cfg.Environment // ORDERBUS_ENV, read once by config.Service
	for i, p := range cfg.Participants {
		cfg.Participants[i] = strings.TrimSpace(p)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("invalid config: %w", err)
	}
	return cfg, nil
}

// Validate returns an error naming every invalid setting.
func (c Config) Validate() error {
	errs := []error{c.Service.Validate(), c.ConsumerSettings.Validate(), c.Settings.Validate(), c.Auth.Validate(), c.HTTP.Validate(), c.RateLimit.Validate()}
	if c.RateLimitErasures < 0 {
		errs = append(errs, fmt.Errorf("RATE_LIMIT_ERASURES %d: want >= 0 (0 = off)", c.RateLimitErasures))
	}
	if len(c.Participants) == 0 {
		errs = append(errs, errors.New("GDPR_PARTICIPANTS must name at least one service"))
	}
	for i, p := range c.Participants {
		switch {
		case !validParticipant.MatchString(p):
			errs = append(errs, fmt.Errorf("GDPR_PARTICIPANTS: %q is not a service name (want %s)", p, validParticipant))
		case slices.Contains(c.Participants[:i], p):
			errs = append(errs, fmt.Errorf("GDPR_PARTICIPANTS: %q is listed twice", p))
		}
	}
	return errors.Join(errs...)
}

// ackWait is the completions consumer's AckWait: above the slowest
// handler, the answer's transaction and then the completion, and never
// below natsjs's default. The runner also sends InProgress while a
// handler runs.
func (Config) ackWait() time.Duration {
	return max(natsjs.DefaultAckWait, answerTimeout+completeTimeout+5*time.Second)
}

// LogValue logs the configuration with the keys masked and the
// credentials in the URLs redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("http_addr", c.HTTPAddr),
		slog.Attr{Value: c.Auth.LogValue()},
		slog.Attr{Value: c.HTTP.LogValue()},
		slog.Attr{Value: c.Service.LogValue()},
		slog.Attr{Value: c.Settings.LogValue()},
		slog.Attr{Value: c.ConsumerSettings.LogValue()},
		slog.Attr{Value: c.RateLimit.LogValue()},
		slog.Int("rate_limit_erasures", c.RateLimitErasures),
		slog.String("gdpr_participants", strings.Join(c.Participants, ",")),
	)
}
