package stack

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// NATSConfig configures a nats-server process with JetStream.
type NATSConfig struct {
	// StoreDir holds the JetStream store and the server's config file;
	// "" means a new temporary folder that Close removes.
	StoreDir string
	// Port is the client port and MonitorPort the HTTP monitoring port,
	// both on 127.0.0.1; 0 picks a free one.
	Port, MonitorPort int
	// SyncAlways makes JetStream fsync every write before it acknowledges
	// (sync_interval: always), as deploy/nats does: acked means on disk.
	// Slower; tests that never crash the machine can leave it off.
	SyncAlways bool
	// Auth, when set, turns on the orderbus users and permissions and
	// refuses anonymous clients (see nats_auth.go); nil leaves the server
	// open to anyone on loopback.
	Auth *NATSAuth
	// Output, when set, receives the server's log lines.
	Output io.Writer
	// Logger reports progress; nil discards it.
	Logger *slog.Logger
}

// NATS is a nats-server process started by StartNATS. It can be stopped
// and started again on the same ports and store, as a broker outage would.
type NATS struct {
	name     string // a cluster member's server_name (nats_cluster.go); "" alone
	cfg      NATSConfig
	tempDir  bool
	bin      string
	confFile string
	env      []string // nil: the parent's
	proc     *Process
}

// StartNATS starts nats-server with JetStream on 127.0.0.1 and returns
// once its /healthz?js-enabled-only=true answers 200. The binary is the
// pinned one from Tool.
func StartNATS(ctx context.Context, cfg NATSConfig) (*NATS, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	bin, err := Tool(ctx, "nats-server")
	if err != nil {
		return nil, err
	}
	n := &NATS{cfg: cfg, bin: bin}
	if cfg.StoreDir == "" {
		dir, err := os.MkdirTemp("", "orderbus-nats-")
		if err != nil {
			return nil, fmt.Errorf("nats: %w", err)
		}
		n.cfg.StoreDir, n.tempDir = dir, true
	}
	err = startOnFreePorts([]*int{&n.cfg.Port, &n.cfg.MonitorPort}, func() error {
		if err := n.writeConf(""); err != nil {
			return err
		}
		return n.Start(ctx)
	})
	if err != nil {
		n.removeTemp()
		return nil, err
	}
	return n, nil
}

// writeConf writes the server's configuration file: its name, ports and
// store, then extra (a cluster block, or ""), then the accounts when
// NATSConfig.Auth is set.
func (n *NATS) writeConf(extra string) error {
	if err := os.MkdirAll(n.cfg.StoreDir, 0o755); err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	sync := ""
	if n.cfg.SyncAlways {
		sync = "\n  sync_interval: always"
	}
	conf := fmt.Sprintf(`server_name: %s
listen: "127.0.0.1:%d"
http: "127.0.0.1:%d"
jetstream {
  store_dir: %q%s
}
`, n.Name(), n.cfg.Port, n.cfg.MonitorPort, filepath.Join(n.cfg.StoreDir, "jetstream"), sync) + extra
	if n.cfg.Auth != nil {
		include, env, err := n.cfg.Auth.writeAccounts(n.cfg.StoreDir)
		if err != nil {
			return err
		}
		conf, n.env = conf+include, env
	}
	n.confFile = filepath.Join(n.cfg.StoreDir, "nats-server.conf")
	if err := os.WriteFile(n.confFile, []byte(conf), 0o644); err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	return nil
}

// Start starts the server again after Stop, on the same ports and store.
func (n *NATS) Start(ctx context.Context) error {
	proc, err := StartProcess(ctx, ProcessConfig{
		Name: cmp.Or(n.name, "nats"), Path: n.bin, Args: []string{"-c", n.confFile}, Env: n.env, Output: n.cfg.Output,
	})
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	n.proc = proc
	if err := proc.waitReady(ctx, 20*time.Second, func(ctx context.Context) error {
		return httpOK(ctx, n.MonitorURL()+"/healthz?js-enabled-only=true")
	}); err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	n.cfg.Logger.Info("nats ready", "url", n.URL())
	return nil
}

// URL returns the client URL, nats://127.0.0.1:PORT.
func (n *NATS) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.cfg.Port) }

// MonitorURL returns the monitoring base URL, http://127.0.0.1:PORT.
func (n *NATS) MonitorURL() string { return fmt.Sprintf("http://127.0.0.1:%d", n.cfg.MonitorPort) }

// StoreDir returns the folder holding the JetStream store.
func (n *NATS) StoreDir() string { return n.cfg.StoreDir }

// Process returns the current server process, for its log.
func (n *NATS) Process() *Process { return n.proc }

// Stop stops the server gracefully; Start brings it back.
func (n *NATS) Stop(ctx context.Context) error {
	if err := n.proc.Stop(ctx); err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	return nil
}

// Kill ends the server at once with SIGKILL, as a crash would, keeping
// its store and ports; Start brings it back and JetStream recovers the
// store. With SyncAlways, every acknowledged message survives.
func (n *NATS) Kill() error {
	if err := n.proc.Kill(); err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	return nil
}

// Close stops the server and removes the store if StartNATS made it.
func (n *NATS) Close(ctx context.Context) error {
	err := n.Stop(ctx)
	n.removeTemp()
	return err
}

func (n *NATS) removeTemp() {
	if n.tempDir {
		_ = os.RemoveAll(n.cfg.StoreDir)
	}
}
