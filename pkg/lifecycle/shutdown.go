package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Stage is one step of a service's shutdown: stopping a Group (Group.Stage)
// or closing what the stopped parts used (a connection pool, the NATS
// connection).
type Stage struct {
	// Name says what stops, in the log and in errors.
	Name string
	// Stop stops it, returning by the time ctx (the rest of the shutdown
	// timeout) is done.
	Stop func(ctx context.Context) error
}

// Stage returns the shutdown stage that stops g and waits for its parts.
func (g *Group) Stage(name string) Stage {
	return Stage{Name: name, Stop: func(ctx context.Context) error {
		g.Stop()
		return g.Wait(ctx)
	}}
}

// Shutdown runs stages in the order given, all within timeout, even when
// ctx is already done (it is, usually: SIGTERM). A stage that fails does
// not stop the ones after it: whatever it left running, the later ones
// still close what they can. Each stage that succeeds is logged at info
// level, then "stopped" once all have. It returns every failure, joined,
// each prefixed with its stage's name.
func Shutdown(ctx context.Context, logger *slog.Logger, timeout time.Duration, stages ...Stage) error {
	logger.Info("shutting down", "timeout", timeout.String())
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	var errs []error
	for _, s := range stages {
		if err := s.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", s.Name, err))
			continue
		}
		logger.Info("stopped " + s.Name)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}
