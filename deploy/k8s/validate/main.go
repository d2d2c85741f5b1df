// Command validate renders every kustomize overlay under deploy/k8s/overlays
// in-process (krusty, the library behind `kustomize build`) and validates
// each object it renders strictly: core objects decode into the
// k8s.io/api types, CloudNativePG and KEDA resources into their own Go API
// types, each with unknown and duplicate fields refused, so a misspelt
// field fails. Policy checks follow (probes, resources, PDBs, grace
// periods, secrets). It needs no cluster:
//
//	cd deploy/k8s/validate && GOWORK=off go run . [-root ..] [overlay...]
//
// With no overlay named it checks every folder under ROOT/overlays. It
// also checks the NATS Helm values under ROOT/nats (see NATSValues).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "validate:", err)
		os.Exit(1)
	}
}

// run checks each overlay named in args (or every one under -root's
// overlays folder), prints one line per overlay, and returns an error
// when any fails.
func run(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("root", "..", "the deploy/k8s folder")
	if err := fs.Parse(args); err != nil {
		return err
	}
	overlays := fs.Args()
	if len(overlays) == 0 {
		entries, err := os.ReadDir(filepath.Join(*root, "overlays"))
		if err != nil {
			return fmt.Errorf("list overlays: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() {
				overlays = append(overlays, filepath.Join(*root, "overlays", e.Name()))
			}
		}
		sort.Strings(overlays)
		// The NATS namespace's accounts ConfigMap (and the demo's passwords).
		overlays = append(overlays, filepath.Join(*root, "nats", "auth"), filepath.Join(*root, "nats", "auth-demo"))
	}
	failed := 0
	for file, replicas := range map[string]int{"values.yaml": 3, "values-demo.yaml": 1} {
		path := filepath.Join(*root, "nats", file)
		if _, err := CheckNATSValues(path, replicas); err != nil {
			failed++
			fmt.Fprintf(stdout, "FAIL %s\n%v\n", path, err)
			continue
		}
		fmt.Fprintf(stdout, "ok   %s\n", path)
	}
	for _, dir := range overlays {
		objs, err := Check(dir)
		if err != nil {
			failed++
			fmt.Fprintf(stdout, "FAIL %s\n%v\n", dir, err)
			continue
		}
		fmt.Fprintf(stdout, "ok   %s (%d objects)\n", dir, len(objs))
	}
	if failed > 0 {
		return fmt.Errorf("%d checks failed", failed)
	}
	return nil
}
