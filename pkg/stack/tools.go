package stack

import (
	"context"
	"encoding/json"
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
	// module, when set, is the module of pkg, built from its source (see
	// buildFromSource): `go install pkg@version` refuses a module whose
	// go.mod has replace directives.
	module string
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
	case "jaeger":
		// Jaeger v2.13.0 (all-in-one). Its go.mod replaces a module, so it
		// is built from source: about 6 minutes and 120 MB, on demand only
		// (make tools-jaeger, make run RUN_FLAGS=-jaeger).
		return tool{pkg: "github.com/jaegertracing/jaeger/cmd/jaeger", version: "v1.76.0",
			module: "github.com/jaegertracing/jaeger"}, true
	}
	return tool{}, false
}

// Tool returns the path of the pinned tool binary name ("nats-server",
// "mailpit", "nats" or "jaeger"), building it with `go install` into the
// tools folder when it is missing or was built at another version. Mailpit
// is built with its web UI bundle (see buildMailpitUI; stamped
// <version>+ui) when npm is on $PATH; without npm, or when that build
// fails, Tool says so on stderr and builds the REST-API-only binary.
// Concurrent callers,
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
	want := wantVersion(dir, name, t)
	if current(bin, stamp, want) {
		return bin, nil
	}

	unlock, err := lockFile(filepath.Join(dir, ".lock"))
	if err != nil {
		return "", fmt.Errorf("tool %s: %w", name, err)
	}
	defer unlock()
	if current(bin, stamp, want) { // built by whoever held the lock
		return bin, nil
	}

	if strings.HasSuffix(want, uiSuffix) {
		err := buildMailpitUI(ctx, t, bin)
		if err == nil {
			return bin, writeStamp(name, stamp, want)
		}
		// The API-only binary still serves every test; the UI is for people.
		fmt.Fprintf(os.Stderr, "orderbus tools: building Mailpit's web UI failed, building it without (REST API only); "+
			"delete %s to try again: %v\n", uiFailedMark(dir), err)
		if err := os.WriteFile(uiFailedMark(dir), []byte(t.version+"\n"), 0o644); err != nil {
			return "", fmt.Errorf("tool %s: %w", name, err)
		}
		want = t.version
	} else if name == "mailpit" {
		fmt.Fprintln(os.Stderr, "orderbus tools: npm is not installed: building Mailpit without its web UI "+
			"(http://127.0.0.1:8025 serves only the REST API /api/v1); install Node.js with npm and run make tools for the UI")
	}
	if t.module != "" {
		if err := buildFromSource(ctx, t, bin); err != nil {
			return "", fmt.Errorf("tool %s: %w", name, err)
		}
	} else {
		cmd := exec.CommandContext(ctx, "go", "install", t.pkg+"@"+t.version)
		cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOWORK=off", "CGO_ENABLED=0")
		cmd.Dir = os.TempDir() // outside any module, so go.work and go.mod play no part
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("tool %s: go install %s@%s: %w\n%s", name, t.pkg, t.version, err, out)
		}
	}
	if err := writeStamp(name, stamp, want); err != nil {
		return "", err
	}
	return bin, nil
}

// buildFromSource builds t into bin from its module's source: the module
// is downloaded into the module cache (from the Go module proxy, as `go
// install` would), copied out of it (the cache is read-only) and built
// there as the main module, so that its replace directives apply.
func buildFromSource(ctx context.Context, t tool, bin string) error {
	dl := exec.CommandContext(ctx, "go", "mod", "download", "-json", t.module+"@"+t.version)
	dl.Env = append(os.Environ(), "GOWORK=off")
	dl.Dir = os.TempDir()
	out, err := dl.Output()
	if err != nil {
		return fmt.Errorf("go mod download %s@%s: %w\n%s", t.module, t.version, err, out)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return fmt.Errorf("go mod download %s@%s: no module folder in %s", t.module, t.version, out)
	}
	src, err := os.MkdirTemp("", "orderbus-tool-src-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(src)
	src = filepath.Join(src, "module")
	if err := os.CopyFS(src, os.DirFS(mod.Dir)); err != nil {
		return fmt.Errorf("copy %s: %w", mod.Dir, err)
	}
	pkg := "./" + strings.TrimPrefix(strings.TrimPrefix(t.pkg, t.module), "/")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, pkg)
	build.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s@%s: %w\n%s", t.pkg, t.version, err, out)
	}
	return nil
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
	return err == nil && acceptable(strings.TrimSpace(string(b)), version)
}

func writeStamp(name, stamp, version string) error {
	if err := os.WriteFile(stamp, []byte(version+"\n"), 0o644); err != nil {
		return fmt.Errorf("tool %s: %w", name, err)
	}
	return nil
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
