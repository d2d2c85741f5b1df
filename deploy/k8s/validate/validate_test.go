package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	cnpgv1 "github.com/cloudnative-pg/cloudnative-pg/api/v1"
	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

func mustCheck(t *testing.T, overlay string) []Object {
	t.Helper()
	objs, err := Check(filepath.Join("..", "overlays", overlay))
	if err != nil {
		t.Fatalf("overlay %s: %v", overlay, err)
	}
	return objs
}

// count returns how many objects of kind the overlay renders.
func count(objs []Object, kind string) int {
	n := 0
	for _, o := range objs {
		if o.Kind == kind {
			n++
		}
	}
	return n
}

func TestOverlaysValidate(t *testing.T) {
	t.Parallel()
	for _, overlay := range []string{"demo", "replicated"} {
		t.Run(overlay, func(t *testing.T) {
			t.Parallel()
			objs := mustCheck(t, overlay)
			for kind, want := range map[string]int{"Deployment": 5, "PodDisruptionBudget": 5, "Service": 5, "Database": 5, "Cluster": 1} {
				if overlay == "demo" && kind != "PodDisruptionBudget" && kind != "Database" && kind != "Cluster" {
					want++ // Mailpit
				}
				if got := count(objs, kind); got != want {
					t.Errorf("%d %s objects, want %d", got, kind, want)
				}
			}
		})
	}
}

func TestReplicatedOverlay(t *testing.T) {
	t.Parallel()
	objs := mustCheck(t, "replicated")
	if n := count(objs, "Secret"); n != 0 {
		t.Errorf("renders %d Secrets: no credential may be published outside the demo overlay", n)
	}
	scaled := map[string]bool{}
	for _, o := range objs {
		switch v := o.Typed.(type) {
		case *cnpgv1.Cluster:
			s := v.Spec.PostgresConfiguration.Synchronous
			if v.Spec.Instances != 3 || s == nil || s.Number != 1 || s.Method != cnpgv1.SynchronousReplicaConfigurationMethodAny {
				t.Errorf("Cluster: instances %d, synchronous %+v; want 3 instances, ANY 1", v.Spec.Instances, s)
			}
			if len(v.Spec.Managed.Roles) != 5 {
				t.Errorf("Cluster: %d managed roles, want one per service", len(v.Spec.Managed.Roles))
			}
		case *corev1.ConfigMap:
			if v.Data["STREAM_REPLICAS"] != "3" || strings.Count(v.Data["NATS_URL"], "nats://") != 3 {
				t.Errorf("ConfigMap %s: STREAM_REPLICAS %q, NATS_URL %q; want 3 and three URLs", v.Name, v.Data["STREAM_REPLICAS"], v.Data["NATS_URL"])
			}
			if env, ok := v.Data["ORDERBUS_ENV"]; ok {
				t.Errorf("ConfigMap %s: ORDERBUS_ENV=%s lets the services accept published credentials", v.Name, env)
			}
		case *appsv1.Deployment:
			if *v.Spec.Replicas < 2 {
				t.Errorf("Deployment %s: %d replicas, want 2", v.Name, *v.Spec.Replicas)
			}
		case *kedav1alpha1.ScaledObject:
			if len(v.Spec.Triggers) != 1 || v.Spec.Triggers[0].Type != "nats-jetstream" {
				t.Errorf("ScaledObject %s: triggers %+v, want one nats-jetstream", v.Name, v.Spec.Triggers)
			}
			scaled[v.Spec.ScaleTargetRef.Name] = true
		}
	}
	for _, svc := range []string{"order", "email", "sms", "inventory"} {
		if !scaled[svc] {
			t.Errorf("no ScaledObject scales %s", svc)
		}
	}
}

// TestBrokenFixturesFail: each fixture under testdata breaks one rule;
// the validator must name it.
func TestBrokenFixturesFail(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ dir, want string }{
		{"broken-deployment", `unknown field "spec.replica"`},
		{"broken-cluster", `unknown field "spec.postgresql.synchronous.methd"`},
		{"broken-scaledobject", `unknown field "spec.minReplicas"`},
		{"broken-policy", "want a readinessProbe GET /readyz"},
		{"broken-policy", "terminationGracePeriodSeconds 10: want above container sms's SHUTDOWN_TIMEOUT 20s"},
		{"broken-policy", "NATS_PASSWORD must come from a Secret"},
	} {
		t.Run(tc.dir+"/"+tc.want, func(t *testing.T) {
			t.Parallel()
			_, err := Check(filepath.Join("testdata", tc.dir))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Check(%s) = %v, want an error containing %q", tc.dir, err, tc.want)
			}
		})
	}
}

func TestDecodeRefusesUnknownKind(t *testing.T) {
	t.Parallel()
	_, err := Decode([]byte(`{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"}}`))
	if err == nil || !strings.Contains(err.Error(), "no schema") {
		t.Fatalf("Decode(Widget) = %v, want a no-schema error", err)
	}
}

func TestDecodeIsCaseSensitive(t *testing.T) {
	t.Parallel()
	_, err := Decode([]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"Data":{"a":"b"}}`))
	if err == nil || !strings.Contains(err.Error(), "Data") {
		t.Fatalf("Decode(ConfigMap with Data) = %v, want an unknown-field error", err)
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), nil, &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s%s", err, out.String(), errOut.String())
	}
	for _, o := range []string{"demo", "replicated"} {
		if !strings.Contains(out.String(), "ok   "+filepath.Join("..", "overlays", o)) {
			t.Errorf("output lacks %s:\n%s", o, out.String())
		}
	}
	if err := run(context.Background(), []string{filepath.Join("testdata", "broken-deployment")}, &out, &errOut); err == nil {
		t.Error("run(broken-deployment) succeeded")
	}
}

func TestNATSValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file     string
		replicas int
		want     string // "" for valid
	}{
		{"../nats/values.yaml", 3, ""},
		{"../nats/values-demo.yaml", 1, ""},
		{"../nats/values-demo.yaml", 3, "want config.cluster enabled with 3 replicas"},
		{"testdata/nats/values-misspelt.yaml", 3, `unknown field "config.cluster.replica"`},
		{"testdata/nats/values-small-store.yaml", 1, "config.jetstream.memoryStore gives the server 0, below an account's max_memory"},
		{"testdata/nats/values-small-store.yaml", 1, "config.jetstream.fileStore gives the server 2Gi, below an account's max_file"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			_, err := CheckNATSValues(tc.file, tc.replicas)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("CheckNATSValues: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("CheckNATSValues = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestAccountsFileInSync: the accounts file the chart includes is
// deploy/nats/accounts.conf (generated by pkg/natsauth), byte for byte,
// and the ConfigMap carries it unchanged.
func TestAccountsFileInSync(t *testing.T) {
	t.Parallel()
	want, err := os.ReadFile(filepath.Join("..", "..", "nats", "accounts.conf"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("..", "nats", "auth", "accounts.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("deploy/k8s/nats/auth/accounts.conf differs from deploy/nats/accounts.conf: cp deploy/nats/accounts.conf deploy/k8s/nats/auth/")
	}
	objs, err := Check(filepath.Join("..", "nats", "auth"))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, o := range objs {
		if cm, ok := o.Typed.(*corev1.ConfigMap); ok && cm.Name == "nats-accounts" && cm.Namespace == "nats" {
			found = cm.Data["accounts.conf"] == string(want)
		}
	}
	if !found || count(objs, "Secret") != 0 {
		t.Errorf("nats/auth: want ConfigMap nats/nats-accounts equal to the accounts file and no Secret; got %v", objs)
	}
}

// TestNATSUsersMatch: every service Deployment's NATS_USER names a user of
// the accounts file: in the demo the rendered Secret's value (whose
// password is the one nats-passwords gives the server), in replicated the
// Secret orderbus-<user>-nats whose user README.md creates as <user>.
func TestNATSUsersMatch(t *testing.T) {
	t.Parallel()
	conf, err := os.ReadFile(filepath.Join("..", "nats", "auth", "accounts.conf"))
	if err != nil {
		t.Fatal(err)
	}
	users := AccountUsers(conf)
	if len(users) != 7 {
		t.Fatalf("accounts file: %d users, want 7: %v", len(users), users)
	}
	server := map[string]string{}
	for _, o := range mustCheckDir(t, filepath.Join("..", "nats", "auth-demo")) {
		if s, ok := o.Typed.(*corev1.Secret); ok && s.Name == "nats-passwords" {
			for k, v := range s.Data {
				server[k] = string(v)
			}
		}
	}
	for _, overlay := range []string{"demo", "replicated"} {
		objs := mustCheck(t, overlay)
		secrets := map[string]*corev1.Secret{}
		for _, o := range objs {
			if s, ok := o.Typed.(*corev1.Secret); ok {
				secrets[s.Name] = s
			}
		}
		n := 0
		for _, o := range objs {
			d, ok := o.Typed.(*appsv1.Deployment)
			if !ok || d.Labels["app.kubernetes.io/component"] != "service" {
				continue
			}
			n++
			var ref *corev1.SecretKeySelector
			for _, e := range d.Spec.Template.Spec.Containers[0].Env {
				if e.Name == "NATS_USER" && e.ValueFrom != nil {
					ref = e.ValueFrom.SecretKeyRef
				}
			}
			if ref == nil || ref.Key != "user" {
				t.Errorf("%s %s: NATS_USER not from a Secret's key user", overlay, d.Name)
				continue
			}
			user := strings.TrimSuffix(strings.TrimPrefix(ref.Name, "orderbus-"), "-nats")
			if overlay == "demo" {
				s := secrets[ref.Name]
				if s == nil {
					t.Errorf("demo %s: no Secret %s", d.Name, ref.Name)
					continue
				}
				user = string(s.Data["user"])
				if env := users[user]; env != "" && server[env] != string(s.Data["password"]) {
					t.Errorf("demo %s: password of %s differs from nats-passwords %s", d.Name, user, env)
				}
			}
			if _, ok := users[user]; !ok {
				t.Errorf("%s %s: NATS_USER %q is no user of the accounts file", overlay, d.Name, user)
			}
		}
		if n != 5 {
			t.Errorf("%s: %d service Deployments, want 5", overlay, n)
		}
	}
}

func mustCheckDir(t *testing.T, dir string) []Object {
	t.Helper()
	objs, err := Check(dir)
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	return objs
}

// TestNATSValuesAuthRules: values without the accounts include, with a
// literal password or without route authorisation fail.
func TestNATSValuesAuthRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ file, want string }{
		{"testdata/nats/values-noauth.yaml", "want config.merge.$include: ../nats-accounts/accounts.conf"},
		{"testdata/nats/values-noauth.yaml", "want container.env.NATS_PASSWORD_ORDER from Secret nats-passwords"},
		{"testdata/nats/values-noauth.yaml", "want config.cluster.routeURLs.user"},
		{"testdata/nats/values-literal.yaml", "cannot unmarshal string"},
	} {
		t.Run(tc.file+"/"+tc.want, func(t *testing.T) {
			t.Parallel()
			_, err := CheckNATSValues(tc.file, 3)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CheckNATSValues(%s) = %v, want an error containing %q", tc.file, err, tc.want)
			}
		})
	}
}
