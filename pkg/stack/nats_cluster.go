package stack

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// NATSClusterConfig configures a JetStream cluster of nats-server
// processes on 127.0.0.1, each with its own client, monitoring and route
// port and store.
type NATSClusterConfig struct {
	// Size is the number of servers; 0 means 3 (what R3 streams need).
	Size int
	// Ports are the client ports, one per server; empty or 0 picks free
	// ones. Monitoring ports and route ports are always free ones unless
	// MonitorPorts is given.
	Ports, MonitorPorts []int
	// SyncAlways sets sync_interval: always on every server.
	SyncAlways bool
	// Auth, when set, gives every server the orderbus users and
	// permissions (as NATSConfig.Auth does); nil leaves them open.
	Auth *NATSAuth
	// Output, when set, receives every server's log lines.
	Output io.Writer
	// Logger reports progress; nil discards it.
	Logger *slog.Logger
}

// NATSCluster is a JetStream cluster started by StartNATSCluster. Its
// servers are named nats-1, nats-2, ... and can each be stopped, killed
// and started again (Node), as the loss of one machine would.
type NATSCluster struct {
	nodes []*NATS
	dir   string
}

// StartNATSCluster starts cfg.Size servers routed to each other as one
// cluster named orderbus and returns once each has JetStream enabled and
// the cluster has elected a meta leader, so streams can be created.
func StartNATSCluster(ctx context.Context, cfg NATSClusterConfig) (*NATSCluster, error) {
	if cfg.Size == 0 {
		cfg.Size = 3
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	bin, err := Tool(ctx, "nats-server")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "orderbus-nats-cluster-")
	if err != nil {
		return nil, fmt.Errorf("nats cluster: %w", err)
	}
	c := &NATSCluster{dir: dir}
	routes := make([]int, cfg.Size)
	for i := range cfg.Size {
		n := &NATS{bin: bin, name: fmt.Sprintf("nats-%d", i+1), cfg: NATSConfig{
			StoreDir: filepath.Join(dir, fmt.Sprintf("n%d", i+1)), SyncAlways: cfg.SyncAlways, Auth: cfg.Auth,
			Output: cfg.Output, Logger: cfg.Logger,
		}}
		if i < len(cfg.Ports) {
			n.cfg.Port = cfg.Ports[i]
		}
		if i < len(cfg.MonitorPorts) {
			n.cfg.MonitorPort = cfg.MonitorPorts[i]
		}
		c.nodes = append(c.nodes, n)
	}
	var ports []*int
	for i, n := range c.nodes {
		ports = append(ports, &n.cfg.Port, &n.cfg.MonitorPort, &routes[i])
	}
	err = startOnFreePorts(ports, func() error {
		var routeURLs []string
		for _, p := range routes {
			routeURLs = append(routeURLs, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
		}
		for i, n := range c.nodes {
			if err := n.writeConf(clusterBlock(routes[i], routeURLs)); err != nil {
				return err
			}
		}
		err := c.Start(ctx)
		if err != nil { // a second attempt starts every server on its new ports
			_ = c.Stop(context.WithoutCancel(ctx))
		}
		return err
	})
	if err != nil {
		_ = c.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	cfg.Logger.Info("nats cluster ready", "urls", c.URL())
	return c, nil
}

// clusterBlock is the cluster section of a member's configuration: its
// route port and every member's route URL.
func clusterBlock(routePort int, routes []string) string {
	return fmt.Sprintf(`cluster {
  name: orderbus
  listen: "127.0.0.1:%d"
  routes: [%s]
}
`, routePort, strings.Join(quoteAll(routes), ", "))
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}

// Nodes returns the servers, nats-1 first.
func (c *NATSCluster) Nodes() []*NATS { return c.nodes }

// Node returns the server of that name (nats-1, ...), or nil.
func (c *NATSCluster) Node(name string) *NATS {
	for _, n := range c.nodes {
		if n.name == name {
			return n
		}
	}
	return nil
}

// URL returns every server's client URL, comma-separated, as NATS_URL
// takes them: a client connects to any and fails over to the others.
func (c *NATSCluster) URL() string {
	urls := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		urls[i] = n.URL()
	}
	return strings.Join(urls, ",")
}

// MonitorURL returns the first server's monitoring base URL.
func (c *NATSCluster) MonitorURL() string { return c.nodes[0].MonitorURL() }

// Start starts every server that is not running, all at once (a lone
// server of a cluster waits for its peers), and returns once each has
// JetStream enabled and a meta leader is elected.
func (c *NATSCluster) Start(ctx context.Context) error {
	errs := make(chan error, len(c.nodes))
	for _, n := range c.nodes {
		go func() {
			if isRunning(n.proc) {
				errs <- nil
				return
			}
			errs <- n.Start(ctx)
		}()
	}
	var all []error
	for range c.nodes {
		all = append(all, <-errs)
	}
	if err := errors.Join(all...); err != nil {
		return err
	}
	return c.WaitMetaLeader(ctx, 30*time.Second)
}

// WaitMetaLeader waits until every running server reports the same
// JetStream meta leader.
func (c *NATSCluster) WaitMetaLeader(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		leader, err := c.metaLeader(ctx)
		if err == nil && leader != "" {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("nats cluster: no meta leader within %v (last: %v)", timeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *NATSCluster) metaLeader(ctx context.Context) (string, error) {
	leader := ""
	for _, n := range c.nodes {
		if !isRunning(n.proc) {
			continue
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.MonitorURL()+"/jsz", nil)
		if err != nil {
			return "", err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", err
		}
		var jsz struct {
			Meta struct {
				Leader string `json:"leader"`
			} `json:"meta_cluster"`
		}
		err = json.NewDecoder(resp.Body).Decode(&jsz)
		resp.Body.Close()
		if err != nil {
			return "", fmt.Errorf("%s /jsz: %w", n.name, err)
		}
		if jsz.Meta.Leader == "" || (leader != "" && jsz.Meta.Leader != leader) {
			return "", fmt.Errorf("%s sees meta leader %q", n.name, jsz.Meta.Leader)
		}
		leader = jsz.Meta.Leader
	}
	return leader, nil
}

// Stop stops every running server gracefully; Start brings them back.
func (c *NATSCluster) Stop(ctx context.Context) error {
	var errs []error
	for _, n := range c.nodes {
		if isRunning(n.proc) {
			errs = append(errs, n.Stop(ctx))
		}
	}
	return errors.Join(errs...)
}

// Close stops every server and removes the stores.
func (c *NATSCluster) Close(ctx context.Context) error {
	err := c.Stop(ctx)
	c.removeTemp()
	return err
}

func (c *NATSCluster) removeTemp() { _ = os.RemoveAll(c.dir) }

// Name returns the server's name (server_name): "orderbus" for a single
// server, nats-1, nats-2, ... in a cluster, as JetStream reports leaders.
func (n *NATS) Name() string { return cmp.Or(n.name, "orderbus") }

func isRunning(p *Process) bool {
	if p == nil {
		return false
	}
	select {
	case <-p.Exited():
		return false
	default:
		return true
	}
}
