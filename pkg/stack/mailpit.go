package stack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// MailpitConfig configures a Mailpit process, the SMTP mail catcher.
type MailpitConfig struct {
	// SMTPPort and HTTPPort (web UI and REST API) bind 127.0.0.1; 0 picks
	// a free one.
	SMTPPort, HTTPPort int
	// Dir holds Mailpit's database, so messages survive a restart; ""
	// means a new temporary folder that Close removes.
	Dir string
	// Chaos enables Mailpit's chaos API, with which a test makes the SMTP
	// server answer with errors (PUT /api/v1/chaos).
	Chaos bool
	// Output, when set, receives Mailpit's log lines.
	Output io.Writer
	// Logger reports progress; nil discards it.
	Logger *slog.Logger
}

// Mailpit is a Mailpit process started by StartMailpit. It can be stopped
// and started again on the same ports, keeping its messages.
type Mailpit struct {
	cfg     MailpitConfig
	tempDir bool
	bin     string
	proc    *Process
}

// StartMailpit starts Mailpit on 127.0.0.1 and returns once its API
// answers. It keeps every message (no limit on their number).
func StartMailpit(ctx context.Context, cfg MailpitConfig) (*Mailpit, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	bin, err := Tool(ctx, "mailpit")
	if err != nil {
		return nil, err
	}
	m := &Mailpit{cfg: cfg, bin: bin}
	if cfg.Dir == "" {
		dir, err := os.MkdirTemp("", "orderbus-mailpit-")
		if err != nil {
			return nil, fmt.Errorf("mailpit: %w", err)
		}
		m.cfg.Dir, m.tempDir = dir, true
	}
	err = startOnFreePorts([]*int{&m.cfg.SMTPPort, &m.cfg.HTTPPort}, func() error { return m.Start(ctx) })
	if err != nil {
		m.removeTemp()
		return nil, err
	}
	return m, nil
}

// Start starts Mailpit again after Stop, on the same ports and database.
func (m *Mailpit) Start(ctx context.Context) error {
	args := []string{
		"--smtp", fmt.Sprintf("127.0.0.1:%d", m.cfg.SMTPPort),
		"--listen", fmt.Sprintf("127.0.0.1:%d", m.cfg.HTTPPort),
		"--database", filepath.Join(m.cfg.Dir, "mailpit.db"),
		"--max", "0",
		"--disable-version-check",
		"--smtp-disable-rdns",
	}
	if m.cfg.Chaos {
		args = append(args, "--enable-chaos")
	}
	proc, err := StartProcess(ctx, ProcessConfig{Name: "mailpit", Path: m.bin, Args: args, Output: m.cfg.Output})
	if err != nil {
		return fmt.Errorf("mailpit: %w", err)
	}
	m.proc = proc
	if err := proc.waitReady(ctx, 20*time.Second, func(ctx context.Context) error {
		return httpOK(ctx, m.APIURL()+"/api/v1/info")
	}); err != nil {
		return fmt.Errorf("mailpit: %w", err)
	}
	m.cfg.Logger.Info("mailpit ready", "api", m.APIURL(), "smtp", m.SMTPPort())
	return nil
}

// SMTPHost returns the host the SMTP server listens on, 127.0.0.1.
func (m *Mailpit) SMTPHost() string { return "127.0.0.1" }

// SMTPPort returns the SMTP port.
func (m *Mailpit) SMTPPort() int { return m.cfg.SMTPPort }

// APIURL returns the base URL of the web UI and REST API.
func (m *Mailpit) APIURL() string { return fmt.Sprintf("http://127.0.0.1:%d", m.cfg.HTTPPort) }

// Process returns the current Mailpit process, for its log.
func (m *Mailpit) Process() *Process { return m.proc }

// Stop stops Mailpit; Start brings it back.
func (m *Mailpit) Stop(ctx context.Context) error {
	if err := m.proc.Stop(ctx); err != nil {
		return fmt.Errorf("mailpit: %w", err)
	}
	return nil
}

// Close stops Mailpit and removes its folder if StartMailpit made it.
func (m *Mailpit) Close(ctx context.Context) error {
	err := m.Stop(ctx)
	m.removeTemp()
	return err
}

func (m *Mailpit) removeTemp() {
	if m.tempDir {
		_ = os.RemoveAll(m.cfg.Dir)
	}
}
