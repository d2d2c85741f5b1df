package main

import (
	"encoding/json"
	"errors"
	"fmt"

	cnpgv1 "github.com/cloudnative-pg/cloudnative-pg/api/v1"
	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	sigsjson "sigs.k8s.io/json"
)

// kinds maps apiVersion/kind to a constructor of its Go API type. An
// object of any other kind is refused: add its type here (from a pinned
// module) before the manifests may use it.
var kinds = map[string]func() any{
	"v1/Namespace":                           func() any { return new(corev1.Namespace) },
	"v1/ConfigMap":                           func() any { return new(corev1.ConfigMap) },
	"v1/Secret":                              func() any { return new(corev1.Secret) },
	"v1/Service":                             func() any { return new(corev1.Service) },
	"v1/ServiceAccount":                      func() any { return new(corev1.ServiceAccount) },
	"apps/v1/Deployment":                     func() any { return new(appsv1.Deployment) },
	"policy/v1/PodDisruptionBudget":          func() any { return new(policyv1.PodDisruptionBudget) },
	"postgresql.cnpg.io/v1/Cluster":          func() any { return new(cnpgv1.Cluster) },
	"postgresql.cnpg.io/v1/Database":         func() any { return new(cnpgv1.Database) },
	"keda.sh/v1alpha1/ScaledObject":          func() any { return new(kedav1alpha1.ScaledObject) },
	"keda.sh/v1alpha1/TriggerAuthentication": func() any { return new(kedav1alpha1.TriggerAuthentication) },
}

// Decode decodes one rendered object into its Go API type, refusing
// unknown fields (names match case-sensitively, as the API server does)
// and duplicate fields.
func Decode(doc []byte) (Object, error) {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(doc, &head); err != nil {
		return Object{}, fmt.Errorf("decode object head: %w", err)
	}
	o := Object{APIVersion: head.APIVersion, Kind: head.Kind, Name: head.Metadata.Name, Namespace: head.Metadata.Namespace, JSON: doc}
	newT, ok := kinds[head.APIVersion+"/"+head.Kind]
	if !ok {
		return o, fmt.Errorf("%s: %s %s has no schema here: add its Go API type to kinds", o, head.APIVersion, head.Kind)
	}
	o.Typed = newT()
	strict, err := sigsjson.UnmarshalStrict(doc, o.Typed, sigsjson.DisallowUnknownFields, sigsjson.DisallowDuplicateFields)
	if err != nil {
		return o, fmt.Errorf("%s: %w", o, err)
	}
	if len(strict) > 0 {
		return o, fmt.Errorf("%s: %w", o, errors.Join(strict...))
	}
	return o, nil
}
