package natsjs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/web"
)

// ReadyCheck returns a readiness check that passes when nc is connected,
// setup (if not nil) knows every stream to exist, and JetStream answers.
func ReadyCheck(nc *nats.Conn, js jetstream.JetStream, setup *StreamSetup) func(context.Context) error {
	return func(ctx context.Context) error {
		if status := nc.Status(); status != nats.CONNECTED {
			return fmt.Errorf("nats connection is %s", status)
		}
		if setup != nil {
			if missing := setup.Missing(); len(missing) > 0 {
				return fmt.Errorf("jetstream streams missing: %s", missingText(missing))
			}
		}
		if _, err := js.AccountInfo(ctx); err != nil {
			return fmt.Errorf("jetstream account info: %w", err)
		}
		return nil
	}
}

// ConsumersCheck returns a readiness check that fails while a consumer's
// durable does not exist on the server (not created yet, or found missing
// and not recreated yet): before that, a service that has just started
// would be "ready" without consuming. Once all exist, it reports the
// consumers that are paused as PausedCheck does, degraded but ready.
func ConsumersCheck(consumers ...*Consumer) func(context.Context) error {
	paused := PausedCheck(consumers...)
	return func(ctx context.Context) error {
		for _, c := range consumers {
			if !c.Created() {
				return fmt.Errorf("consumer %s not created yet", c.cfg.Durable)
			}
		}
		return paused(ctx)
	}
}

// PausedCheck returns a readiness check that passes while no consumer is
// paused, and otherwise returns a web.Degraded error naming each paused
// consumer, the dependency that failed, for how long, and the failure:
// /readyz shows it and still answers 200, because restarting the service
// would not bring the dependency back (see web.Degraded).
func PausedCheck(consumers ...*Consumer) func(context.Context) error {
	return func(context.Context) error {
		var paused []string
		for _, c := range consumers {
			state, dep, cause, since := c.br.status()
			if state == circuitClosed {
				continue
			}
			line := fmt.Sprintf("consumer %s paused for %s: %s failing", c.cfg.Durable,
				time.Since(since).Round(time.Second), dep)
			if cause != nil {
				line += ": " + oneLine(cause.Error(), maxErrorHeader)
			}
			paused = append(paused, line)
		}
		if len(paused) == 0 {
			return nil
		}
		return web.Degraded(errors.New(strings.Join(paused, "; ")))
	}
}
