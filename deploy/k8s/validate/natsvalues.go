package main

import (
	"errors"
	"fmt"
	"os"

	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// NATSValues is the part of the official NATS Helm chart's values that
// deploy/k8s/nats uses, field for field as the chart documents them; a
// key outside it is refused, so a misspelt one fails rather than being
// ignored by Helm.
type NATSValues struct {
	Config struct {
		Cluster struct {
			Enabled  bool `json:"enabled"`
			Replicas int  `json:"replicas,omitempty"`
		} `json:"cluster"`
		JetStream struct {
			Enabled   bool `json:"enabled"`
			FileStore struct {
				Enabled bool `json:"enabled"`
				PVC     struct {
					Enabled bool   `json:"enabled"`
					Size    string `json:"size"`
				} `json:"pvc"`
			} `json:"fileStore"`
			// Merge is added to the server's jetstream block as is.
			Merge map[string]any `json:"merge,omitempty"`
		} `json:"jetstream"`
		Monitor struct {
			Enabled bool `json:"enabled"`
			Port    int  `json:"port"`
		} `json:"monitor"`
	} `json:"config"`
	Container struct {
		Image struct {
			Tag string `json:"tag"`
		} `json:"image"`
		Merge map[string]any `json:"merge,omitempty"`
	} `json:"container"`
	PodDisruptionBudget struct {
		Enabled bool `json:"enabled"`
	} `json:"podDisruptionBudget"`
	PodTemplate map[string]any `json:"podTemplate,omitempty"`
	NatsBox     struct {
		Enabled bool `json:"enabled"`
	} `json:"natsBox"`
}

// CheckNATSValues decodes a values file strictly and checks what the
// system relies on: JetStream on file storage, sync_interval always, a
// PDB, and (when replicas > 1) a cluster of exactly that many servers.
func CheckNATSValues(path string, replicas int) (NATSValues, error) {
	var v NATSValues
	y, err := os.ReadFile(path)
	if err != nil {
		return v, fmt.Errorf("read NATS values: %w", err)
	}
	j, err := yaml.YAMLToJSON(y)
	if err != nil {
		return v, fmt.Errorf("%s: %w", path, err)
	}
	strict, err := sigsjson.UnmarshalStrict(j, &v, sigsjson.DisallowUnknownFields, sigsjson.DisallowDuplicateFields)
	if err == nil && len(strict) > 0 {
		err = errors.Join(strict...)
	}
	if err != nil {
		return v, fmt.Errorf("%s: %w", path, err)
	}
	js := v.Config.JetStream
	var errs []error
	if !js.Enabled || !js.FileStore.Enabled || !js.FileStore.PVC.Enabled {
		errs = append(errs, errors.New("want JetStream with file storage on a volume"))
	}
	if js.Merge["sync_interval"] != "always" {
		errs = append(errs, errors.New("want config.jetstream.merge.sync_interval: always"))
	}
	if !v.PodDisruptionBudget.Enabled {
		errs = append(errs, errors.New("want podDisruptionBudget.enabled"))
	}
	if replicas > 1 && (!v.Config.Cluster.Enabled || v.Config.Cluster.Replicas != replicas) {
		errs = append(errs, fmt.Errorf("want config.cluster enabled with %d replicas", replicas))
	}
	if err := errors.Join(errs...); err != nil {
		return v, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}
