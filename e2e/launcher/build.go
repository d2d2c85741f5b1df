package launcher

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/orderbus/orderbus/pkg/stack"
)

// Build compiles each named service with `go build` from the repository
// root (stack.RepoRoot), in one go command so the packages they share are
// compiled once, into outDir/<service>. It returns the binaries' paths by
// service name. It returns an error for an unknown service or a failed
// build, with the compiler's output.
//
// The build uses the workspace file go.work in the repository root even
// when the caller runs with GOWORK=off, since the services depend on the
// pkg module of the same checkout.
func Build(ctx context.Context, outDir string, services ...string) (map[string]string, error) {
	if len(services) == 0 {
		return map[string]string{}, nil
	}
	known := catalog()
	for _, name := range services {
		if _, ok := known[name]; !ok {
			return nil, fmt.Errorf("build %s: %w", name, errUnknownService(name))
		}
	}
	root, err := stack.RepoRoot()
	if err != nil {
		return nil, fmt.Errorf("build services: %w", err)
	}
	outDir, err = filepath.Abs(outDir)
	if err != nil {
		return nil, fmt.Errorf("build services: %w", err)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("build services: %w", err)
	}
	// With several packages, -o must name a folder; the trailing separator
	// makes `go build` treat it as one for a single package too.
	args := []string{"build", "-o", outDir + string(filepath.Separator)}
	for _, name := range services {
		args = append(args, "./services/"+name)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOWORK="+filepath.Join(root, "go.work"), "GOFLAGS="+workspaceGoflags())
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build services: go %v: %w\n%s", args, err, out)
	}
	bins := make(map[string]string, len(services))
	for _, name := range services {
		bin := filepath.Join(outDir, name)
		if _, err := os.Stat(bin); err != nil {
			return nil, fmt.Errorf("build %s: %w", name, err)
		}
		bins[name] = bin
	}
	return bins, nil
}

// workspaceGoflags returns $GOFLAGS without -mod=..., which workspace mode
// refuses (a caller may have set GOFLAGS=-mod=mod to tidy a module).
func workspaceGoflags() string {
	var kept []string
	for _, f := range strings.Fields(os.Getenv("GOFLAGS")) {
		if !strings.HasPrefix(f, "-mod=") {
			kept = append(kept, f)
		}
	}
	return strings.Join(kept, " ")
}
