// Package config loads a service's configuration from environment
// variables, masks secrets for logging, and builds the service's logger.
package config

import (
	"fmt"

	"github.com/caarlos0/env/v11"
)

// Load returns a T filled from the environment variables named by its
// caarlos0/env struct tags: `env:"NAME"` (with the options "required",
// "notEmpty", "file", "expand", "init"), `envDefault:"..."`,
// `envSeparator` for slices, and `envPrefix` on nested structs. Durations
// and duration lists (time.Duration, []time.Duration such as
// "1s,2s,5s") are parsed with time.ParseDuration.
//
// Only getenv is consulted, never the process environment, so tests pass a
// map's lookup and services pass os.Getenv. A variable that getenv reports
// as "" counts as unset: its default applies, and a required variable
// without one is an error. Two limits follow from asking getenv for known
// names only: "expand" resolves only names that are themselves fields, and
// slices of structs (NAME_0_FIELD...) are not filled.
//
// T must be a struct type. The error lists every missing or unparsable
// variable at once (it wraps env.AggregateError).
func Load[T any](getenv func(string) string) (T, error) {
	var cfg T
	// A non-nil, empty map: with a nil one the library would fall back to
	// os.Environ.
	params, err := env.GetFieldParamsWithOptions(&cfg, env.Options{Environment: map[string]string{}})
	if err != nil {
		return cfg, fmt.Errorf("load config: %w", err)
	}
	environ := make(map[string]string, len(params))
	for _, p := range params {
		if v := getenv(p.Key); v != "" {
			environ[p.Key] = v
		}
	}
	if err := env.ParseWithOptions(&cfg, env.Options{Environment: environ}); err != nil {
		return cfg, fmt.Errorf("load config: %w", err)
	}
	return cfg, nil
}
