package outbox

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/telemetry"
)

// Settings are the outbox knobs every publishing service reads from its
// environment; embed it in the service's config struct.
type Settings struct {
	// PublishTimeout bounds PublishNow, the publish right after a commit.
	PublishTimeout time.Duration `env:"PUBLISH_TIMEOUT" envDefault:"2s"`
	// Interval is how often the relay looks for unpublished events.
	Interval time.Duration `env:"OUTBOX_INTERVAL" envDefault:"1s"`
}

// Validate reports every setting that is not positive, joined, naming the
// environment variables.
func (s Settings) Validate() error {
	var errs []error
	if s.PublishTimeout <= 0 {
		errs = append(errs, fmt.Errorf("PUBLISH_TIMEOUT %s: want > 0", s.PublishTimeout))
	}
	if s.Interval <= 0 {
		errs = append(errs, fmt.Errorf("OUTBOX_INTERVAL %s: want > 0", s.Interval))
	}
	return errors.Join(errs...)
}

// LogValue logs the settings under the keys publish_timeout and
// outbox_interval. A service's own LogValue can inline it as an attribute
// with an empty key.
func (s Settings) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Duration("publish_timeout", s.PublishTimeout),
		slog.Duration("outbox_interval", s.Interval),
	)
}

// RelayConfig returns the configuration of a relay with these settings on
// pool, publishing with pub, logging to logger, registering its metrics
// on reg and tracing its publishes with tel (nil: not traced).
func (s Settings) RelayConfig(pool *pgxpool.Pool, pub *natsjs.Publisher, logger *slog.Logger, reg prometheus.Registerer,
	tel *telemetry.Telemetry) RelayConfig {
	return RelayConfig{
		Pool: pool, Publisher: pub, Logger: logger, Metrics: reg, Telemetry: tel,
		Interval: s.Interval, PublishTimeout: s.PublishTimeout,
	}
}
