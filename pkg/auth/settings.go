package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/orderbus/orderbus/pkg/config"
)

// DevelopmentKey is the published signing key of `make run` and docker
// compose. Anyone can mint any token with it, so Settings.Validate refuses
// it unless ORDERBUS_ENV is "development".
const DevelopmentKey = "orderbus-development-jwt-key-do-not-use-in-production"

// EnvDevelopment is the ORDERBUS_ENV value that allows DevelopmentKey.
const EnvDevelopment = "development"

// ErrDevelopmentKey is wrapped by Settings.Validate's error when the
// development key is configured outside development.
var ErrDevelopmentKey = errors.New("the published development key is allowed only with ORDERBUS_ENV=development")

// Settings are the authorization settings every service with an HTTP API
// reads; embed them in the service's Config.
type Settings struct {
	// JWTKey signs and verifies tokens (HS256; at least MinKeyLength
	// bytes; a secret, masked in logs).
	JWTKey string `env:"AUTH_JWT_KEY,required,notEmpty"`
	// PreviousKeys are former signing keys still accepted for
	// verification while their tokens run out (comma-separated; secrets).
	PreviousKeys []string `env:"AUTH_JWT_PREVIOUS_KEYS" envSeparator:","`
	// Environment is ORDERBUS_ENV; only "development" allows
	// DevelopmentKey. config.Service reads the variable (it rules the NATS
	// and database secrets too); loadConfig copies it here.
	Environment string
}

// Validate returns an error naming each bad setting: a key too short, or
// DevelopmentKey (as the key or a previous one) outside development
// (wrapping ErrDevelopmentKey).
func (s Settings) Validate() error {
	var errs []error
	if _, err := NewKeys(s.JWTKey, s.PreviousKeys...); err != nil {
		errs = append(errs, fmt.Errorf("AUTH_JWT_KEY / AUTH_JWT_PREVIOUS_KEYS: %w", err))
	}
	usesDev := s.JWTKey == DevelopmentKey || slices.ContainsFunc(s.PreviousKeys, func(k string) bool {
		return strings.TrimSpace(k) == DevelopmentKey
	})
	if usesDev && s.Environment != EnvDevelopment {
		errs = append(errs, fmt.Errorf("AUTH_JWT_KEY: %w (ORDERBUS_ENV is %q); set a secret key of your own, "+
			"e.g. openssl rand -base64 48", ErrDevelopmentKey, s.Environment))
	}
	return errors.Join(errs...)
}

// Keys returns the verification and signing keys. Call it after Validate.
func (s Settings) Keys() (*Keys, error) { return NewKeys(s.JWTKey, s.PreviousKeys...) }

// LogValue logs the settings with every key masked.
func (s Settings) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("auth_jwt_key", config.Mask),
		slog.Int("auth_jwt_previous_keys", len(s.PreviousKeys)),
		slog.String("orderbus_env", s.Environment),
	)
}
