package launcher

import (
	"context"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/stack"
)

// clusterSize is how many servers Config.NATSCluster starts, and the
// replicas of the streams on it.
const clusterSize = 3

// startNATSCluster starts Config.NATSCluster's servers as the system's broker.
func (s *System) startNATSCluster(ctx context.Context) error {
	cfg := stack.NATSClusterConfig{Size: clusterSize, SyncAlways: true, Auth: &stack.NATSAuth{}, Output: s.cfg.Output, Logger: s.cfg.Logger}
	if s.cfg.Fixed {
		for i := range clusterSize {
			cfg.Ports = append(cfg.Ports, fixedPorts()[PortNATS]+i)
			cfg.MonitorPorts = append(cfg.MonitorPorts, fixedPorts()[PortNATSMonitor]+i)
		}
	}
	c, err := stack.StartNATSCluster(ctx, cfg)
	if err != nil {
		return err
	}
	s.cluster, s.nats = c, c
	return nil
}

// NATSCluster returns the system's NATS cluster (Config.NATSCluster), to
// kill and restart its servers one by one, or nil for a single server.
func (s *System) NATSCluster() *stack.NATSCluster { return s.cluster }

// clusterEnv is what every service gets on a cluster: three-replica streams.
func (s *System) clusterEnv() map[string]string {
	if s.cluster == nil {
		return nil
	}
	return map[string]string{"STREAM_REPLICAS": "3"}
}

// streamRetention is what the launcher creates the streams with: the
// defaults, with three replicas on a cluster (as the services' STREAM_REPLICAS).
func (s *System) streamRetention() events.Retention {
	r := events.DefaultRetention()
	if s.cluster != nil {
		r.Replicas = clusterSize
	}
	return r
}
