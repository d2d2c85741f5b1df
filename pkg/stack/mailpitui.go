package stack

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// uiSuffix marks, in a tool's version stamp, a Mailpit built with its web
// UI bundle; changing the pinned version or the suffix rebuilds it.
const uiSuffix = "+ui"

// mailpitUIFiles are the package.json and package-lock.json the UI bundle
// is built with: Mailpit's own, trimmed to what `npm run build` needs (the
// linters and test runners dropped) and with rapidoc at ^9.3.8, the
// release the npm registry serves here, so that npm installs the same
// tree on every machine.
//
//go:embed mailpitui/package.json mailpitui/package-lock.json
var mailpitUIFiles embed.FS

// ErrNoNPM is wrapped by the error of a Mailpit UI build on a machine
// without npm on $PATH; Tool then builds Mailpit without its web UI.
var ErrNoNPM = errors.New("npm not found on $PATH")

// MailpitHasUI reports whether the Mailpit in the tools folder was built
// with its web UI bundle (so http://127.0.0.1:8025 shows the mail), false
// when it is missing or serves only its REST API.
func MailpitHasUI() bool {
	dir, err := ToolsDir()
	if err != nil {
		return false
	}
	b, err := os.ReadFile(filepath.Join(dir, "mailpit.version"))
	return err == nil && strings.HasSuffix(strings.TrimSpace(string(b)), uiSuffix)
}

// wantVersion returns the stamp Tool wants for t in the tools folder dir:
// with the UI suffix for Mailpit when npm is there to build the bundle and
// a build of this version has not failed before (uiFailedMark).
func wantVersion(dir, name string, t tool) string {
	if name != "mailpit" || npmPath() == "" {
		return t.version
	}
	if b, err := os.ReadFile(uiFailedMark(dir)); err == nil && strings.TrimSpace(string(b)) == t.version {
		return t.version
	}
	return t.version + uiSuffix
}

// uiFailedMark is the file recording the Mailpit version whose UI build
// failed, so that every later Tool call does not try again.
func uiFailedMark(dir string) string { return filepath.Join(dir, "mailpit.ui-failed") }

// jsonField returns the string field key of the JSON object b.
func jsonField(b []byte, key string) (string, error) {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return "", err
	}
	v, _ := m[key].(string)
	if v == "" {
		return "", fmt.Errorf("no %s in %s", key, b)
	}
	return v, nil
}

// acceptable reports whether a binary stamped have is good enough for a
// wanted stamp: a Mailpit with its UI serves where one without is wanted.
func acceptable(have, want string) bool {
	return have == want || have == want+uiSuffix
}

func npmPath() string {
	p, err := exec.LookPath("npm")
	if err != nil {
		return ""
	}
	return p
}

// buildMailpitUI builds Mailpit with its web UI into bin: it copies the
// module's source out of the module cache (`go mod download`), installs
// the trimmed npm packages (npm ci), runs `npm run build`, which writes
// server/ui/dist, the folder the Go binary embeds, and then `go build`s
// it. It returns an error wrapping ErrNoNPM when npm is missing.
func buildMailpitUI(ctx context.Context, t tool, bin string) error {
	npm := npmPath()
	if npm == "" {
		return ErrNoNPM
	}
	work, err := os.MkdirTemp("", "orderbus-mailpit-src-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	out, err := goCmd(ctx, os.TempDir(), "mod", "download", "-json", t.pkg+"@"+t.version).Output()
	if err != nil {
		return fmt.Errorf("go mod download %s@%s: %w", t.pkg, t.version, err)
	}
	srcDir, err := jsonField(out, "Dir")
	if err != nil {
		return fmt.Errorf("go mod download %s@%s: %w", t.pkg, t.version, err)
	}
	src := filepath.Join(work, "mailpit")
	if err := copyTree(srcDir, src); err != nil {
		return fmt.Errorf("copy mailpit source: %w", err)
	}
	for _, name := range []string{"package.json", "package-lock.json"} {
		b, err := mailpitUIFiles.ReadFile("mailpitui/" + name)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(src, name), b, 0o644); err != nil {
			return err
		}
	}
	steps := []*exec.Cmd{
		exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--no-save"),
		exec.CommandContext(ctx, npm, "run", "build"),
		goCmd(ctx, src, "build", "-trimpath", "-ldflags",
			"-s -w -X github.com/axllent/mailpit/config.Version="+t.version+uiSuffix, "-o", bin, "."),
	}
	for _, cmd := range steps {
		cmd.Dir = src
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, tail(out, 4000))
		}
	}
	if _, err := os.Stat(filepath.Join(src, "server", "ui", "dist", "app.js")); err != nil {
		return fmt.Errorf("npm run build wrote no server/ui/dist/app.js: %w", err)
	}
	return nil
}

// goCmd is `go args...` in dir, outside any workspace, without cgo.
func goCmd(ctx context.Context, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	cmd.Dir = dir
	return cmd
}

// copyTree copies the regular files and folders under src to dst, writable
// (the module cache is read-only).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
