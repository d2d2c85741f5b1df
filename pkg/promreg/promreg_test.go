package promreg_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderbus/orderbus/pkg/promreg"
)

func TestRegister(t *testing.T) {
	t.Parallel()
	newCounter := func(help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "orderbus_test_total", Help: help})
	}
	reg := prometheus.NewRegistry()
	first, err := promreg.Register(reg, newCounter("Tests."))
	if err != nil {
		t.Fatalf("first Register: %v", err)
	}
	second, err := promreg.Register(reg, newCounter("Tests."))
	if err != nil {
		t.Fatalf("second Register of an equal collector: %v", err)
	}
	if second != first {
		t.Error("second Register returned a new collector, want the first one reused")
	}
	if _, err := promreg.Register(reg, newCounter("Other help.")); err == nil {
		t.Error("Register of a differing collector with the same name succeeded, want an error")
	}
	unregistered := newCounter("Tests.")
	if got, err := promreg.Register(nil, unregistered); err != nil || got != unregistered {
		t.Errorf("Register(nil) = %v, %v; want the collector back, no error", got, err)
	}
}
