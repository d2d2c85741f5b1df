package launcher

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"
)

// KillService ends a service's process at once with SIGKILL, as a crash
// would (in-flight requests and messages are abandoned), and waits for it
// to exit; StartService brings it back. It returns an error if the system
// does not run the service; killing a stopped service does nothing.
func (s *System) KillService(name string) error {
	svc, ok := s.services[name]
	if !ok {
		return fmt.Errorf("kill service: %w", errUnknownService(name))
	}
	p := svc.current()
	if !running(p) {
		return nil
	}
	s.cfg.Logger.Info("killing service", "service", name, "pid", p.Pid())
	if err := p.Kill(); err != nil {
		return fmt.Errorf("kill service %s: %w", name, err)
	}
	return nil
}

// PauseService stops a service's process with SIGSTOP: it keeps its
// connections but does nothing, as a stalled machine or a long GC pause
// would; ResumeService (SIGCONT) lets it run on. Close resumes a paused
// service before it stops it. It returns an error if the system does not
// run the service or it is not running.
func (s *System) PauseService(name string) error {
	svc, ok := s.services[name]
	if !ok {
		return fmt.Errorf("pause service: %w", errUnknownService(name))
	}
	p := svc.current()
	if !running(p) {
		return fmt.Errorf("pause service %s: not running", name)
	}
	s.cfg.Logger.Info("signalling service", "service", name, "signal", syscall.SIGSTOP.String())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return p.Pause(ctx)
}

// ResumeService resumes a service paused by PauseService; resuming a
// running service does nothing.
func (s *System) ResumeService(name string) error {
	return s.signalService(name, syscall.SIGCONT)
}

func (s *System) signalService(name string, sig syscall.Signal) error {
	svc, ok := s.services[name]
	if !ok {
		return fmt.Errorf("signal service: %w", errUnknownService(name))
	}
	p := svc.current()
	if !running(p) {
		return fmt.Errorf("signal service %s: not running", name)
	}
	s.cfg.Logger.Info("signalling service", "service", name, "signal", sig.String())
	return p.Signal(sig)
}

// ErrNotLocal is returned for a fault that needs a local process when the
// infrastructure runs elsewhere (containers, or a shared PostgreSQL).
var ErrNotLocal = errors.New("not a local process")

// KillNATS ends the nats-server process with SIGKILL, keeping its store
// and ports; NATS().Start brings it back. It returns an error wrapping
// ErrNotLocal when the broker is not a local process.
func (s *System) KillNATS() error {
	k, ok := s.nats.(interface{ Kill() error })
	if !ok {
		return fmt.Errorf("kill nats: %w", ErrNotLocal)
	}
	s.cfg.Logger.Info("killing nats-server")
	return k.Kill()
}

// CrashPostgres stops the system's own PostgreSQL with an immediate
// shutdown (every session ends, no checkpoint) and, once it has exited,
// returns; StartPostgres brings it back with crash recovery. It returns
// an error wrapping ErrNotLocal when Config.Postgres was given.
func (s *System) CrashPostgres(ctx context.Context) error {
	if s.ownPG == nil {
		return fmt.Errorf("crash postgres: %w", ErrNotLocal)
	}
	s.cfg.Logger.Info("crashing postgres")
	return s.ownPG.Crash(ctx)
}

// StartPostgres starts the system's own PostgreSQL again after
// CrashPostgres, on the same data folder and port, and returns once it
// accepts connections. It returns an error wrapping ErrNotLocal when
// Config.Postgres was given.
func (s *System) StartPostgres(ctx context.Context) error {
	if s.ownPG == nil {
		return fmt.Errorf("start postgres: %w", ErrNotLocal)
	}
	return s.ownPG.Start(ctx)
}
