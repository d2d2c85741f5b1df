package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

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
			// RouteURLs authorises the routes; the password is set at
			// install, never in the file.
			RouteURLs struct {
				User     string `json:"user"`
				Password string `json:"password,omitempty"`
			} `json:"routeURLs"`
		} `json:"cluster"`
		JetStream struct {
			Enabled   bool `json:"enabled"`
			FileStore struct {
				Enabled bool `json:"enabled"`
				PVC     struct {
					Enabled bool   `json:"enabled"`
					Size    string `json:"size"`
				} `json:"pvc"`
				// MaxSize is the server's max_file_store; the chart
				// defaults it to PVC.Size.
				MaxSize string `json:"maxSize,omitempty"`
			} `json:"fileStore"`
			// MemoryStore off makes the chart write max_memory_store: 0.
			MemoryStore struct {
				Enabled bool   `json:"enabled"`
				MaxSize string `json:"maxSize,omitempty"`
			} `json:"memoryStore"`
			// Merge is added to the server's jetstream block as is.
			Merge map[string]any `json:"merge,omitempty"`
		} `json:"jetstream"`
		Monitor struct {
			Enabled bool `json:"enabled"`
			Port    int  `json:"port"`
		} `json:"monitor"`
		// Merge is added to the server's configuration; $include names
		// the accounts file.
		Merge map[string]any `json:"merge,omitempty"`
	} `json:"config"`
	Container struct {
		Image struct {
			Tag string `json:"tag"`
		} `json:"image"`
		// Env is the chart's map of extra variables; each must come from
		// a Secret (a literal value fails to decode).
		Env map[string]struct {
			ValueFrom corev1.EnvVarSource `json:"valueFrom"`
		} `json:"env,omitempty"`
		Merge map[string]any `json:"merge,omitempty"`
		Patch []PatchOp      `json:"patch,omitempty"`
	} `json:"container"`
	PodDisruptionBudget struct {
		Enabled bool `json:"enabled"`
	} `json:"podDisruptionBudget"`
	PodTemplate struct {
		TopologySpreadConstraints map[string]any `json:"topologySpreadConstraints,omitempty"`
		Patch                     []PatchOp      `json:"patch,omitempty"`
	} `json:"podTemplate"`
	NatsBox struct {
		Enabled bool `json:"enabled"`
	} `json:"natsBox"`
}

// PatchOp is one JSON patch operation of the chart's patch lists.
type PatchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

// AccountsInclude is where the values include the accounts file from (the
// ConfigMap nats-accounts mounted at /etc/nats-accounts).
const AccountsInclude = "../nats-accounts/accounts.conf"

// AccountUsers returns the users of an accounts.conf, each with the
// variable its password is read from.
func AccountUsers(conf []byte) map[string]string {
	users := map[string]string{}
	re := regexp.MustCompile(`user: "([a-z0-9_-]+)"\s+password: \$(NATS_PASSWORD_[A-Z0-9_]+)`)
	for _, m := range re.FindAllSubmatch(conf, -1) {
		users[string(m[1])] = string(m[2])
	}
	return users
}

// checkNATSAuth: the accounts file included and mounted from the
// ConfigMap, every user's password variable from the Secret
// nats-passwords, no other authorisation, and routes authorised.
func checkNATSAuth(v NATSValues, users map[string]string, replicas int) []error {
	var errs []error
	if v.Config.Merge["$include"] != AccountsInclude {
		errs = append(errs, fmt.Errorf("want config.merge.$include: %s", AccountsInclude))
	}
	for _, k := range []string{"no_auth_user", "authorization", "accounts", "include"} {
		if _, ok := v.Config.Merge[k]; ok {
			errs = append(errs, fmt.Errorf("config.merge.%s: the users come from the accounts file only", k))
		}
	}
	if len(users) == 0 {
		errs = append(errs, errors.New("no users in the accounts file"))
	}
	for u, env := range users {
		e, ok := v.Container.Env[env]
		ref := e.ValueFrom.SecretKeyRef
		if !ok || ref == nil || ref.Name != "nats-passwords" || ref.Key != env {
			errs = append(errs, fmt.Errorf("user %s: want container.env.%s from Secret nats-passwords key %s", u, env, env))
		}
	}
	mounted := false
	for _, p := range v.Container.Patch {
		var m corev1.VolumeMount
		if p.Op == "add" && p.Path == "/volumeMounts/-" && strictJSON(p.Value, &m) == nil &&
			m.Name == "nats-accounts" && m.MountPath == "/etc/nats-accounts" {
			mounted = true
		}
	}
	volume := false
	for _, p := range v.PodTemplate.Patch {
		var vol corev1.Volume
		if p.Op == "add" && p.Path == "/spec/volumes/-" && strictJSON(p.Value, &vol) == nil &&
			vol.Name == "nats-accounts" && vol.ConfigMap != nil && vol.ConfigMap.Name == "nats-accounts" {
			volume = true
		}
	}
	if !mounted || !volume {
		errs = append(errs, errors.New("want the ConfigMap nats-accounts as volume nats-accounts mounted at /etc/nats-accounts (container.patch, podTemplate.patch)"))
	}
	if replicas > 1 {
		if v.Config.Cluster.RouteURLs.User == "" {
			errs = append(errs, errors.New("want config.cluster.routeURLs.user: routes must authenticate"))
		}
		if v.Config.Cluster.RouteURLs.Password != "" {
			errs = append(errs, errors.New("config.cluster.routeURLs.password is set at install, not in the file"))
		}
	}
	return errs
}

func strictJSON(j []byte, v any) error {
	strict, err := sigsjson.UnmarshalStrict(j, v, sigsjson.DisallowUnknownFields, sigsjson.DisallowDuplicateFields)
	if err == nil && len(strict) > 0 {
		err = errors.Join(strict...)
	}
	return err
}

// CheckNATSValues decodes a values file strictly and checks what the
// system relies on: JetStream on file storage, sync_interval always, a
// PDB, and (when replicas > 1) a cluster of exactly that many servers.
//
// The accounts file is nats/auth/accounts.conf beside the values file.
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
	conf, err := os.ReadFile(filepath.Join(filepath.Dir(path), "auth", "accounts.conf"))
	if err != nil {
		errs = append(errs, fmt.Errorf("read accounts file: %w", err))
	}
	errs = append(errs, checkNATSAuth(v, AccountUsers(conf), replicas)...)
	errs = append(errs, checkNATSLimits(v, conf)...)
	if err := errors.Join(errs...); err != nil {
		return v, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// accountLimit matches a JetStream limit of an account in accounts.conf.
var accountLimit = regexp.MustCompile(`(max_memory|max_file):\s*(\d+)`)

// checkNATSLimits: the server's JetStream limits, as the chart writes
// them (max_memory_store: memoryStore.maxSize, or 0 with the memory store
// off; max_file_store: fileStore.maxSize, else the volume's size), hold
// every account's limits in the accounts file. A server refuses to start
// JetStream for an account whose limits exceed its own ("insufficient
// memory resources available").
func checkNATSLimits(v NATSValues, conf []byte) []error {
	js := v.Config.JetStream
	server := map[string]string{"max_memory": "0", "max_file": js.FileStore.PVC.Size}
	if js.MemoryStore.Enabled {
		server["max_memory"] = js.MemoryStore.MaxSize
	}
	if js.FileStore.MaxSize != "" {
		server["max_file"] = js.FileStore.MaxSize
	}
	keys := map[string]string{"max_memory": "config.jetstream.memoryStore", "max_file": "config.jetstream.fileStore"}
	var errs []error
	for _, m := range accountLimit.FindAllSubmatch(conf, -1) {
		limit, key := string(m[2]), string(m[1])
		want, err := resource.ParseQuantity(limit)
		if err != nil {
			errs = append(errs, fmt.Errorf("accounts file: %s %s: %w", key, limit, err))
			continue
		}
		have, err := resource.ParseQuantity(server[key])
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: size %q: %w", keys[key], server[key], err))
			continue
		}
		if have.Cmp(want) < 0 {
			errs = append(errs, fmt.Errorf("%s gives the server %s, below an account's %s of %s bytes: JetStream would not start",
				keys[key], have.String(), key, limit))
		}
	}
	return errs
}
