// Package promreg registers Prometheus collectors that several components
// of one process may each create: the second registration reuses the
// first collector instead of failing, so consumers, relays and HTTP
// servers can share one registry.
package promreg

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Register registers c with reg and returns it, or returns the equal
// collector (same names, labels and help) registered before, so that its
// counts are shared. A nil reg leaves c unregistered and returns it. Any
// other registration error (a collector of the same name that differs) is
// returned, wrapped.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if reg == nil {
		return c, nil
	}
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("register metrics: %w", err)
}
