package stack

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ProcessConfig describes a child process.
type ProcessConfig struct {
	// Name labels the process in errors and in Output lines.
	Name string
	// Path is the binary; Args its arguments (without the program name).
	Path string
	Args []string
	// Env is the complete environment; nil means the parent's.
	Env []string
	// Dir is the working directory; "" means the parent's.
	Dir string
	// Output, when set, also receives every line the process prints,
	// prefixed with its name.
	Output io.Writer
	// Credential, when set, runs the process as another user.
	Credential *syscall.Credential
}

// Process is a running child process. Its combined output is kept in
// memory (the last lines) so that a failing test can show it.
type Process struct {
	cfg    ProcessConfig
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // valid after exited is closed

	mu    sync.Mutex
	lines []string
}

const keptLines = 400

// StartProcess starts the process described by cfg. The process gets its
// own process group, so a Ctrl-C in the terminal reaches only the parent,
// which then stops its children in order; and it is killed if the parent
// dies.
func StartProcess(ctx context.Context, cfg ProcessConfig) (*Process, error) {
	cmd := exec.Command(cfg.Path, cfg.Args...)
	cmd.Env = cfg.Env
	cmd.Dir = cfg.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:    true,
		Pdeathsig:  syscall.SIGKILL,
		Credential: cfg.Credential,
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", cfg.Name, err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("start %s: %w", cfg.Name, err)
	}
	w.Close()

	p := &Process{cfg: cfg, cmd: cmd, exited: make(chan struct{})}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		p.collect(r)
	}()
	go func() {
		err := cmd.Wait()
		<-copied
		r.Close()
		p.err = err
		close(p.exited)
	}()
	return p, nil
}

func (p *Process) collect(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		p.mu.Lock()
		p.lines = append(p.lines, line)
		if len(p.lines) > 2*keptLines {
			p.lines = append(p.lines[:0], p.lines[len(p.lines)-keptLines:]...)
		}
		p.mu.Unlock()
		if p.cfg.Output != nil {
			fmt.Fprintf(p.cfg.Output, "%-9s | %s\n", p.cfg.Name, line)
		}
	}
}

// Name returns the name the process was started with.
func (p *Process) Name() string { return p.cfg.Name }

// Pid returns the operating system's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited is closed once the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Err returns how the process exited; nil while it runs.
func (p *Process) Err() error {
	select {
	case <-p.exited:
		return p.err
	default:
		return nil
	}
}

// Tail returns the last n lines the process printed.
func (p *Process) Tail(n int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	lines := p.lines
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Stop sends SIGTERM and waits for the process to exit; if it has not
// exited when ctx ends or after 10 seconds, it is killed. Stopping a
// process that has already exited is not an error.
func (p *Process) Stop(ctx context.Context) error {
	return p.signalAndWait(ctx, syscall.SIGTERM)
}

// Kill ends the process at once with SIGKILL, as a crash would, and waits
// for it to exit.
func (p *Process) Kill() error {
	return p.signalAndWait(context.Background(), syscall.SIGKILL)
}

// Signal sends sig to the process without waiting: SIGSTOP and SIGCONT
// pause and resume it, as a stalled machine would. Signalling a process
// that has exited is not an error.
func (p *Process) Signal(sig syscall.Signal) error {
	if exited(p) {
		return nil
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal %s: %w", p.cfg.Name, err)
	}
	return nil
}

// Pause stops p with SIGSTOP and returns once every one of its threads is
// stopped (state T in /proc), so that nothing it does can happen after
// Pause returns; or ctx's error. A process that has exited is not an error.
func (p *Process) Pause(ctx context.Context) error {
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		return err
	}
	for {
		stopped, err := allStopped(p.Pid())
		if err != nil || stopped || exited(p) {
			return nil // gone: nothing left to pause
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pause %s: %w", p.cfg.Name, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// allStopped reports whether every thread of pid is in state T (stopped).
func allStopped(pid int) (bool, error) {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/" + t.Name() + "/stat")
		if err != nil {
			return false, err
		}
		// The state follows the command name, which is in parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 || i+2 >= len(b) || b[i+2] != 'T' {
			return false, nil
		}
	}
	return true, nil
}

// exited reports whether p has exited.
func exited(p *Process) bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

func (p *Process) signalAndWait(ctx context.Context, sig syscall.Signal) error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop %s: %w", p.cfg.Name, err)
	}
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	select {
	case <-p.exited:
		return nil
	case <-ctx.Done():
	case <-timer.C:
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	return fmt.Errorf("stop %s: killed after it did not exit on %v", p.cfg.Name, sig)
}

// waitReady polls ready every 20 ms until it returns nil, the process
// exits, or ctx ends; on failure the error includes the output's tail.
func (p *Process) waitReady(ctx context.Context, timeout time.Duration, ready func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		err := ready(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited before it was ready (%v):\n%s", p.cfg.Name, p.err, p.Tail(40))
		case <-ctx.Done():
			_ = p.Kill()
			return fmt.Errorf("%s not ready after %v: %v:\n%s", p.cfg.Name, timeout, err, p.Tail(40))
		case <-tick.C:
		}
	}
}
