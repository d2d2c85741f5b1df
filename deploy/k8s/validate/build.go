package main

import (
	"errors"
	"fmt"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// Object is one rendered object: its identity, its JSON, and the typed
// value it decoded into.
type Object struct {
	APIVersion, Kind, Namespace, Name string
	// JSON is the object as kustomize rendered it.
	JSON []byte
	// Typed is a pointer to the Go API type the JSON decoded into.
	Typed any
}

// String names the object as kubectl does: kind/name (namespace).
func (o Object) String() string {
	if o.Namespace == "" {
		return o.Kind + "/" + o.Name
	}
	return fmt.Sprintf("%s/%s (%s)", o.Kind, o.Name, o.Namespace)
}

// Build renders the kustomization in dir, as `kustomize build dir` does
// with default options (no plugins, no Helm, load restrictions on).
func Build(dir string) ([][]byte, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	var out [][]byte
	for _, r := range m.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", r.CurId(), err)
		}
		j, err := yaml.YAMLToJSON(y)
		if err != nil {
			return nil, fmt.Errorf("convert %s: %w", r.CurId(), err)
		}
		out = append(out, j)
	}
	return out, nil
}

// Check builds the overlay in dir, decodes every object strictly and
// applies the policy checks; the error joins every problem found.
func Check(dir string) ([]Object, error) {
	docs, err := Build(dir)
	if err != nil {
		return nil, err
	}
	var objs []Object
	var errs []error
	for _, doc := range docs {
		o, err := Decode(doc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		objs = append(objs, o)
	}
	if len(errs) == 0 {
		errs = append(errs, Policy(objs)...)
	}
	return objs, errors.Join(errs...)
}
