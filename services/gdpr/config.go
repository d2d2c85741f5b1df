package main

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/orderbus/orderbus/pkg/config"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/outbox"
)

// Config is the gdpr service's configuration, read from the environment.
// Defaults live in the envDefault tags (and config.Service's) and nowhere
// else.
type Config struct {
	config.Service
	natsjs.ConsumerSettings
	outbox.Settings

	HTTPAddr string `env:"HTTP_ADDR" envDefault:":8082"`
	// Token is the bearer token the erasure endpoints require (a secret:
	// masked when the configuration is logged).
	Token string `env:"GDPR_TOKEN,required,notEmpty"`
	// Participants are the services that must each confirm an erasure,
	// named as in their gdpr.erasure.completed.<service> subject.
	Participants []string `env:"GDPR_PARTICIPANTS" envDefault:"order,email,sms,inventory" envSeparator:","`
}

// minTokenLength is the token length below which the service warns at
// start: a short token can be guessed.
const minTokenLength = 16

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
	errs := []error{c.Service.Validate(), c.ConsumerSettings.Validate(), c.Settings.Validate()}
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

// LogValue logs the configuration with the token masked and the
// credentials in the URLs redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("http_addr", c.HTTPAddr),
		slog.Attr{Value: c.Service.LogValue()},
		slog.Attr{Value: c.Settings.LogValue()},
		slog.Attr{Value: c.ConsumerSettings.LogValue()},
		slog.String("gdpr_token", config.Mask),
		slog.String("gdpr_participants", strings.Join(c.Participants, ",")),
	)
}
