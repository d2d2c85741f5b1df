package main

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// defaultShutdownTimeout is config.Service's SHUTDOWN_TIMEOUT default.
const defaultShutdownTimeout = 20 * time.Second

// componentLabel marks an orderbus service's pods with the value
// "service"; the Deployment rules apply to those (not to Mailpit, say).
const componentLabel = "app.kubernetes.io/component"

// secretName matches environment variables that hold a credential: they
// must come from a Secret, never a literal value.
var secretName = regexp.MustCompile(`(PASSWORD|TOKEN|_KEY|SECRET|_SID)$`)

// Policy returns one error for each rule an object breaks: every
// service Deployment's (pods labelled component=service) containers probe /healthz (liveness) and /readyz
// (readiness) and declare CPU and memory requests and a memory limit;
// its terminationGracePeriodSeconds exceeds its SHUTDOWN_TIMEOUT; a
// PodDisruptionBudget selects its pods; credentials come from Secrets
// and every Secret they name is rendered or marked external.
func Policy(objs []Object) []error {
	var errs []error
	var pdbs []*policyv1.PodDisruptionBudget
	for _, o := range objs {
		if p, ok := o.Typed.(*policyv1.PodDisruptionBudget); ok {
			pdbs = append(pdbs, p)
		}
	}
	for _, o := range objs {
		d, ok := o.Typed.(*appsv1.Deployment)
		if !ok || d.Spec.Template.Labels[componentLabel] != "service" {
			continue
		}
		for _, err := range deploymentPolicy(d, pdbs) {
			errs = append(errs, fmt.Errorf("%s: %w", o, err))
		}
	}
	return errs
}

func deploymentPolicy(d *appsv1.Deployment, pdbs []*policyv1.PodDisruptionBudget) []error {
	var errs []error
	spec := d.Spec.Template.Spec
	if !hasPDB(d, pdbs) {
		errs = append(errs, fmt.Errorf("no PodDisruptionBudget selects its pods"))
	}
	for _, c := range spec.Containers {
		errs = append(errs, containerPolicy(c)...)
		timeout := defaultShutdownTimeout
		for _, e := range c.Env {
			if e.Name == "SHUTDOWN_TIMEOUT" && e.Value != "" {
				t, err := time.ParseDuration(e.Value)
				if err != nil {
					errs = append(errs, fmt.Errorf("container %s: SHUTDOWN_TIMEOUT %q: %w", c.Name, e.Value, err))
				}
				timeout = t
			}
		}
		grace := int64(30) // the API server's default
		if spec.TerminationGracePeriodSeconds != nil {
			grace = *spec.TerminationGracePeriodSeconds
		}
		if time.Duration(grace)*time.Second <= timeout {
			errs = append(errs, fmt.Errorf("terminationGracePeriodSeconds %d: want above container %s's SHUTDOWN_TIMEOUT %s", grace, c.Name, timeout))
		}
	}
	return errs
}

func containerPolicy(c corev1.Container) []error {
	var errs []error
	if !probes(c.LivenessProbe, "/healthz") {
		errs = append(errs, fmt.Errorf("container %s: want a livenessProbe GET /healthz", c.Name))
	}
	if !probes(c.ReadinessProbe, "/readyz") {
		errs = append(errs, fmt.Errorf("container %s: want a readinessProbe GET /readyz", c.Name))
	}
	r := c.Resources
	if r.Requests.Cpu().IsZero() || r.Requests.Memory().IsZero() || r.Limits.Memory().IsZero() {
		errs = append(errs, fmt.Errorf("container %s: want CPU and memory requests and a memory limit", c.Name))
	}
	for _, e := range c.Env {
		if secretName.MatchString(e.Name) && (e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
			errs = append(errs, fmt.Errorf("container %s: %s must come from a Secret (valueFrom.secretKeyRef)", c.Name, e.Name))
		}
		if e.Name == "DATABASE_URL" && e.Value != "" && hasLiteralPassword(e.Value) {
			errs = append(errs, fmt.Errorf("container %s: DATABASE_URL carries a literal password: use $(DB_PASSWORD) from a Secret", c.Name))
		}
	}
	return errs
}

// hasLiteralPassword reports whether a postgres:// URL has a password
// that is not a $(VAR) reference to another environment variable.
func hasLiteralPassword(u string) bool {
	rest, ok := strings.CutPrefix(u, "postgres://")
	if !ok {
		rest, ok = strings.CutPrefix(u, "postgresql://")
	}
	at := strings.Index(rest, "@")
	if !ok || at < 0 {
		return false
	}
	_, pass, found := strings.Cut(rest[:at], ":")
	return found && !(strings.HasPrefix(pass, "$(") && strings.HasSuffix(pass, ")"))
}

func probes(p *corev1.Probe, path string) bool {
	return p != nil && p.HTTPGet != nil && p.HTTPGet.Path == path
}

func hasPDB(d *appsv1.Deployment, pdbs []*policyv1.PodDisruptionBudget) bool {
	for _, p := range pdbs {
		if p.Namespace != d.Namespace || p.Spec.Selector == nil {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			return true
		}
	}
	return false
}
