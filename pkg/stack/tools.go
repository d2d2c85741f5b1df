package stack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// tool is a binary built from the Go module proxy at a pinned version.
type tool struct {
	pkg     string // the package `go install` builds
	version string
}

// pinnedTool returns the tool called name, at the version DESIGN.md pins.
// Changing a version here rebuilds that tool on its next use.
func pinnedTool(name string) (tool, bool) {
	switch name {
	case "nats-server":
		return tool{pkg: "github.com/nats-io/nats-server/v2", version: "v2.15.2"}, true
	case "mailpit":
		return tool{pkg: "github.com/axllent/mailpit", version: "v1.33.1"}, true
	case "nats":
		return tool{pkg: "github.com/nats-io/natscli/nats", version: "v0.5.0"}, true
	}
	return tool{}, false
}

// Tool returns the path of the pinned tool binary name ("nats-server",
// "mailpit" or "nats"), building it with `go install` into the tools folder
// when it is missing or was built at another version. Concurrent callers,
// in this process or others, build a tool once: a file lock serialises them.
//
// The tools folder is $ORDERBUS_TOOLS_DIR, else .tools/bin in the
// repository root (the nearest parent folder of the working directory that
// holds go.work).
func Tool(ctx context.Context, name string) (string, error) {
	t, ok := pinnedTool(name)
	if !ok {
		return "", fmt.Errorf("tool %q: not a pinned tool", name)
	}
	dir, err := ToolsDir()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("tool %s: %w", name, err)
	}
	bin := filepath.Join(dir, name)
	stamp := bin + ".version"
	if current(bin, stamp, t.version) {
		return bin, nil
	}

	unlock, err := lockFile(filepath.Join(dir, ".lock"))
	if err != nil {
		return "", fmt.Errorf("tool %s: %w", name, err)
	}
	defer unlock()
	if current(bin, stamp, t.version) { // built by whoever held the lock
		return bin, nil
	}

	cmd := exec.CommandContext(ctx, "go", "install", t.pkg+"@"+t.version)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOWORK=off", "CGO_ENABLED=0")
	cmd.Dir = os.TempDir() // outside any module, so go.work and go.mod play no part
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("tool %s: go install %s@%s: %w\n%s", name, t.pkg, t.version, err, out)
	}
	if err := os.WriteFile(stamp, []byte(t.version+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("tool %s: %w", name, err)
	}
	return bin, nil
}

// ToolsDir returns the folder tool binaries are built into: see Tool.
func ToolsDir() (string, error) {
	if dir := os.Getenv("ORDERBUS_TOOLS_DIR"); dir != "" {
		return filepath.Abs(dir)
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".tools", "bin"), nil
}

// RepoRoot returns the nearest parent of the working directory, itself
// included, that holds go.work.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repository root: no go.work above the working directory (set ORDERBUS_TOOLS_DIR)")
		}
		dir = parent
	}
}

func current(bin, stamp, version string) bool {
	if _, err := os.Stat(bin); err != nil {
		return false
	}
	b, err := os.ReadFile(stamp)
	return err == nil && strings.TrimSpace(string(b)) == version
}

// lockFile takes an exclusive flock on path and returns its release.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
