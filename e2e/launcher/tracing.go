package launcher

import (
	"context"

	"github.com/orderbus/orderbus/pkg/stack"
)

// Ports of the Jaeger that Config.Jaeger starts, by Config.Ports name.
const (
	PortJaegerUI   = "jaeger-ui"   // UI and HTTP query API; 16686 under Fixed
	PortJaegerOTLP = "jaeger-otlp" // OTLP/HTTP receiver; 4318 under Fixed
	PortJaegerGRPC = "jaeger-grpc" // gRPC query API; 16685 under Fixed
)

// jaegerPorts are the fixed ports of `make run -jaeger`.
func jaegerPorts() map[string]int {
	return map[string]int{PortJaegerUI: 16686, PortJaegerOTLP: 4318, PortJaegerGRPC: 16685}
}

// startJaeger starts the Jaeger of Config.Jaeger, if asked for, and
// points the services at it.
func (s *System) startJaeger(ctx context.Context) error {
	if !s.cfg.Jaeger {
		return nil
	}
	s.cfg.Logger.Info("starting jaeger (built on first use: minutes)")
	j, err := stack.StartJaeger(ctx, stack.JaegerConfig{
		UIPort: s.cfg.port(PortJaegerUI), OTLPPort: s.cfg.port(PortJaegerOTLP), GRPCPort: s.cfg.port(PortJaegerGRPC),
		Output: s.cfg.Output, Logger: s.cfg.Logger,
	})
	if err != nil {
		return err
	}
	s.jaeger = j
	s.cfg.OTLPEndpoint = j.OTLPEndpoint()
	return nil
}

// TraceUIURL returns the UI (and HTTP query API) of the Jaeger Start
// started (Config.Jaeger), "" without one.
func (s *System) TraceUIURL() string {
	if s.jaeger == nil {
		return ""
	}
	return s.jaeger.UIURL()
}
