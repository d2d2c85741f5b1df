// Package compose checks docker-compose.yml against the code it runs,
// without Docker: every service folder has a compose service built from
// deploy/docker/Dockerfile, every container has a health check, the
// services wait for healthy infrastructure, no host port is published
// twice, and each service is given exactly environment variables its
// config struct reads (and every one it requires). What a service reads
// comes from the env tags of its config.go, parsed with go/ast, not from a
// list kept here. smoke_test.go runs the file for real where Docker is.
package compose

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/orderbus/orderbus/pkg/telemetry"
)

// The infrastructure services of docker-compose.yml, by name.
const (
	natsService     = "nats"
	postgresService = "postgres"
	// mailService is the mail catcher: MailHog, or what MAIL_CATCHER_IMAGE names.
	mailService = "mailhog"
)

// dockerfile is the file every service image is built from, relative to
// the repository root.
const dockerfile = "deploy/docker/Dockerfile"

// repoRoot returns the repository root, two folders above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "docker-compose.yml")); err != nil {
		t.Fatalf("repository root: %v", err)
	}
	return root
}

// loadProject loads docker-compose.yml as `docker compose` would, with env
// as the only environment (so the caller's shell cannot change the result)
// and the loader options given (such as loader.WithProfiles).
func loadProject(t *testing.T, env map[string]string, options ...func(*loader.Options)) *types.Project {
	t.Helper()
	root := repoRoot(t)
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(root, "docker-compose.yml")}},
		Environment: env,
	}, options...)
	if err != nil {
		t.Fatalf("load docker-compose.yml: %v", err)
	}
	return p
}

// goService is a service of the repository together with its compose
// service and the variables its config struct reads.
type goService struct {
	name    string
	compose types.ServiceConfig
	reads   map[string]envVar
}

// goServices returns every folder under services/ with its compose
// service; a folder without one fails t.
func goServices(t *testing.T, p *types.Project) []goService {
	t.Helper()
	root := repoRoot(t)
	names, err := serviceDirs(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no service folders with a config.go under services/")
	}
	var out []goService
	for _, name := range names {
		svc, ok := p.Services[name]
		if !ok {
			t.Errorf("services/%s has no service %q in docker-compose.yml", name, name)
			continue
		}
		reads, err := serviceEnv(root, name)
		if err != nil {
			t.Fatalf("env tags of services/%s: %v", name, err)
		}
		// Every service's run reads the OpenTelemetry variables through
		// telemetry.Load, outside its config struct.
		for _, v := range telemetry.Variables() {
			reads[v] = envVar{Name: v, Field: "telemetry.Load"}
		}
		out = append(out, goService{name: name, compose: svc, reads: reads})
	}
	return out
}

func TestProjectName(t *testing.T) {
	t.Parallel()
	// Fixed, so the volumes and images do not depend on the folder a
	// clone lives in.
	if p := loadProject(t, nil); p.Name != "orderbus" {
		t.Errorf("project name = %q, want orderbus", p.Name)
	}
}

func TestEveryServiceIsThere(t *testing.T) {
	t.Parallel()
	p := loadProject(t, nil)
	for _, name := range []string{natsService, postgresService, mailService} {
		if _, ok := p.Services[name]; !ok {
			t.Errorf("no %s service", name)
		}
	}
	for _, name := range []string{"order", "email", "sms", "inventory", "gdpr"} {
		if _, ok := p.Services[name]; !ok {
			t.Errorf("no %s service", name)
		}
	}
	root := repoRoot(t)
	for _, s := range goServices(t, p) {
		b := s.compose.Build
		if b == nil {
			t.Errorf("%s: no build section", s.name)
			continue
		}
		file := b.Dockerfile
		if !filepath.IsAbs(file) {
			file = filepath.Join(b.Context, file)
		}
		if b.Context != root || file != filepath.Join(root, dockerfile) {
			t.Errorf("%s: built from %s in context %s, want %s in %s", s.name, file, b.Context, dockerfile, root)
		}
		if arg := b.Args["SERVICE"]; arg == nil || *arg != s.name {
			t.Errorf("%s: build arg SERVICE = %v, want %q", s.name, deref(arg), s.name)
		}
	}
}

func TestEveryServiceHasAHealthcheck(t *testing.T) {
	t.Parallel()
	p := loadProject(t, nil)
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		hc := p.Services[name].HealthCheck
		switch {
		case hc == nil || len(hc.Test) == 0:
			t.Errorf("%s: no healthcheck (depends_on service_healthy and `up --wait` need one)", name)
		case hc.Disable || hc.Test[0] == "NONE":
			t.Errorf("%s: healthcheck disabled", name)
		}
	}
	for _, s := range goServices(t, p) {
		// The images are distroless: no shell, no wget; the check is the
		// binary deploy/docker/Dockerfile puts there.
		if hc := s.compose.HealthCheck; hc != nil && (len(hc.Test) < 2 || hc.Test[0] != "CMD" || hc.Test[1] != "/healthcheck") {
			t.Errorf("%s: healthcheck %q, want [CMD /healthcheck ...] (the image has no shell)", s.name, hc.Test)
		}
	}
}

func TestServicesWaitForHealthyInfrastructure(t *testing.T) {
	t.Parallel()
	p := loadProject(t, nil)
	for _, s := range goServices(t, p) {
		want := []string{natsService, postgresService}
		if _, ok := s.reads["SMTP_HOST"]; ok {
			want = append(want, mailService)
		}
		for _, dep := range want {
			d, ok := s.compose.DependsOn[dep]
			if !ok {
				t.Errorf("%s: no depends_on %s", s.name, dep)
				continue
			}
			if d.Condition != types.ServiceConditionHealthy {
				t.Errorf("%s: depends_on %s with condition %q, want %s", s.name, dep, d.Condition, types.ServiceConditionHealthy)
			}
		}
		if s.compose.Restart != types.RestartPolicyUnlessStopped {
			t.Errorf("%s: restart %q, want %s", s.name, s.compose.Restart, types.RestartPolicyUnlessStopped)
		}
	}
}

func TestNoHostPortPublishedTwice(t *testing.T) {
	t.Parallel()
	p := loadProject(t, nil)
	seen := map[string]string{} // protocol/port -> service
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		for _, port := range p.Services[name].Ports {
			if port.Published == "" {
				continue // an ephemeral host port cannot clash
			}
			proto := cmpOr(port.Protocol, "tcp")
			// Ranges ("8080-8081") count port by port.
			for _, hp := range expandRange(t, port.Published) {
				key := proto + "/" + hp
				if other, dup := seen[key]; dup {
					t.Errorf("host port %s published by both %s and %s", key, other, name)
				}
				seen[key] = name
			}
			// 0.0.0.0 would put the demo's dev passwords and open APIs on
			// every network the machine is on.
			if port.HostIP != "127.0.0.1" {
				t.Errorf("%s: port %s published on %q, want 127.0.0.1", name, port.Published, port.HostIP)
			}
		}
	}
}

func TestServicesPublishTheirHTTPPort(t *testing.T) {
	t.Parallel()
	p := loadProject(t, nil)
	for _, s := range goServices(t, p) {
		addr := envValue(s.compose, "HTTP_ADDR")
		if addr == "" {
			addr = s.reads["HTTP_ADDR"].Default
		}
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Errorf("%s: HTTP_ADDR %q: %v", s.name, addr, err)
			continue
		}
		var published bool
		for _, pc := range s.compose.Ports {
			if strconv.FormatUint(uint64(pc.Target), 10) == port {
				published = true
				// The fixed ports of DESIGN.md and `make run` are the
				// services' defaults: the same on the host.
				if pc.Published != port {
					t.Errorf("%s: container port %s published as %s, want the same number", s.name, port, pc.Published)
				}
			}
		}
		if !published {
			t.Errorf("%s: listens on %s (HTTP_ADDR %q) but does not publish it", s.name, port, addr)
		}
	}
}

func TestEnvironmentMatchesConfigStructs(t *testing.T) {
	t.Parallel()
	p := loadProject(t, nil)
	for _, s := range goServices(t, p) {
		t.Run(s.name, func(t *testing.T) {
			for _, name := range slices.Sorted(maps.Keys(s.compose.Environment)) {
				if _, ok := s.reads[name]; !ok {
					t.Errorf("sets %s, which services/%s/config.go does not read (reads %s)",
						name, s.name, strings.Join(slices.Sorted(maps.Keys(s.reads)), ", "))
				}
			}
			for _, v := range slices.SortedFunc(maps.Values(s.reads), func(a, b envVar) int { return strings.Compare(a.Name, b.Name) }) {
				if v.Required && envValue(s.compose, v.Name) == "" {
					t.Errorf("does not set %s, which %s requires", v.Name, v.Field)
				}
			}
		})
	}
}

func TestEnvironmentNamesComposeServices(t *testing.T) {
	t.Parallel()
	p := loadProject(t, nil)
	for _, s := range goServices(t, p) {
		for _, name := range []string{"DATABASE_URL", "NATS_URL", "SMTP_HOST"} {
			v := envValue(s.compose, name)
			if v == "" {
				continue
			}
			host := v
			if u, err := url.Parse(v); err == nil && u.Host != "" {
				host = u.Hostname()
			}
			if _, ok := p.Services[host]; !ok {
				t.Errorf("%s: %s points at %q, which is no service of the file", s.name, name, host)
			}
		}
	}
}

// TestDatabasesMatchInitSQL checks each service's DATABASE_URL against the
// roles and databases deploy/postgres creates: its own database, owned by
// the role it logs in as, with that role's password. A service whose
// config reads no DATABASE_URL (the console) is left out.
func TestDatabasesMatchInitSQL(t *testing.T) {
	t.Parallel()
	p := loadProject(t, nil)
	roles, owners := initSQL(t)
	usedBy := map[string]string{}
	for _, s := range goServices(t, p) {
		vars, err := serviceEnv(repoRoot(t), s.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, reads := vars["DATABASE_URL"]; !reads { // the console has no database
			continue
		}
		raw := envValue(s.compose, "DATABASE_URL")
		u, err := url.Parse(raw)
		if err != nil || u.User == nil {
			t.Errorf("%s: DATABASE_URL %q: want postgres://role:password@host/db", s.name, raw)
			continue
		}
		db := strings.TrimPrefix(u.Path, "/")
		user := u.User.Username()
		pass, _ := u.User.Password()
		if owner, ok := owners[db]; !ok {
			t.Errorf("%s: database %q is not created by deploy/postgres", s.name, db)
		} else if owner != user {
			t.Errorf("%s: logs in as %q, but database %q is owned by %q", s.name, user, db, owner)
		}
		if want, ok := roles[user]; !ok || want != pass {
			t.Errorf("%s: role %q with that password is not created by deploy/postgres", s.name, user)
		}
		if other, dup := usedBy[db]; dup {
			t.Errorf("%s and %s share database %q", other, s.name, db)
		}
		usedBy[db] = s.name
	}
}

func TestMailCatcherImageIsOneVariable(t *testing.T) {
	t.Parallel()
	if got := loadProject(t, nil).Services[mailService].Image; got != "mailhog/mailhog:v1.0.1" {
		t.Errorf("default mail catcher image = %q, want mailhog/mailhog:v1.0.1", got)
	}
	const mailpit = "axllent/mailpit:v1.33.1"
	if got := loadProject(t, map[string]string{"MAIL_CATCHER_IMAGE": mailpit}).Services[mailService].Image; got != mailpit {
		t.Errorf("with MAIL_CATCHER_IMAGE=%s the image is %q", mailpit, got)
	}
}

func TestImagesArePinned(t *testing.T) {
	t.Parallel()
	p := loadProject(t, nil)
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		svc := p.Services[name]
		if svc.Build != nil {
			continue
		}
		ref := svc.Image
		tag := ""
		if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
			tag = ref[i+1:]
		}
		if tag == "" || tag == "latest" {
			t.Errorf("%s: image %q is not pinned to a version tag", name, ref)
		}
	}
}

// initSQL returns the roles (with their passwords) and the databases
// (with their owners) that deploy/postgres/*.sql creates.
func initSQL(t *testing.T) (roles, owners map[string]string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "deploy", "postgres", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("deploy/postgres/*.sql: %v (%d files)", err, len(files))
	}
	roleRE := regexp.MustCompile(`(?i)^\s*CREATE\s+ROLE\s+(\w+)\s+.*\bPASSWORD\s+'([^']*)'`)
	dbRE := regexp.MustCompile(`(?i)^\s*CREATE\s+DATABASE\s+(\w+)\s+.*\bOWNER\s+(\w+)`)
	roles, owners = map[string]string{}, map[string]string{}
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if m := roleRE.FindStringSubmatch(sc.Text()); m != nil {
				roles[m[1]] = m[2]
			}
			if m := dbRE.FindStringSubmatch(sc.Text()); m != nil {
				owners[m[1]] = m[2]
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return roles, owners
}

// envValue returns the value svc's environment gives name, or "".
func envValue(svc types.ServiceConfig, name string) string {
	return deref(svc.Environment[name])
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// expandRange returns the ports of "8080" or "8080-8082".
func expandRange(t *testing.T, published string) []string {
	t.Helper()
	lo, hi, isRange := strings.Cut(published, "-")
	if !isRange {
		return []string{published}
	}
	a, err1 := strconv.Atoi(lo)
	b, err2 := strconv.Atoi(hi)
	if err1 != nil || err2 != nil || a > b {
		t.Fatalf("published port range %q", published)
	}
	var out []string
	for p := a; p <= b; p++ {
		out = append(out, fmt.Sprint(p))
	}
	return out
}

// TestContainersRunWithLeastPrivilege checks that the six services and the
// infrastructure they use (NATS, the three NATS servers of the cluster
// profile included, PostgreSQL, the mail catcher) run on a read-only root
// file system, with every capability dropped (PostgreSQL adds back the
// ones its entrypoint needs) and no privilege to gain.
func TestContainersRunWithLeastPrivilege(t *testing.T) {
	t.Parallel()
	p := loadProject(t, nil, loader.WithProfiles([]string{"cluster"}))
	names := []string{natsService, postgresService, mailService}
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		if strings.HasPrefix(name, natsService+"-") {
			names = append(names, name)
		}
	}
	if len(names) == 3 {
		t.Errorf("no NATS cluster members (%s-1, ...) in docker-compose.yml", natsService)
	}
	for _, s := range goServices(t, p) {
		names = append(names, s.name)
	}
	for _, name := range names {
		svc, ok := p.Services[name]
		if !ok {
			t.Errorf("no service %q in docker-compose.yml", name)
			continue
		}
		if !svc.ReadOnly {
			t.Errorf("%s: read_only is not true", name)
		}
		if !slices.Contains(svc.CapDrop, "ALL") {
			t.Errorf("%s: cap_drop %q, want [ALL]", name, svc.CapDrop)
		}
		if !slices.Contains(svc.SecurityOpt, "no-new-privileges:true") {
			t.Errorf("%s: security_opt %q, want no-new-privileges:true", name, svc.SecurityOpt)
		}
	}
}
