package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/jackc/pgx/v5"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	tcnats "github.com/testcontainers/testcontainers-go/modules/nats"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/orderbus/orderbus/e2e/launcher"
	"github.com/orderbus/orderbus/pkg/natsauth"
	"github.com/orderbus/orderbus/pkg/stack"
)

// With E2E_INFRA=docker the suite runs its infrastructure in containers
// (testcontainers-go) instead of local processes: one PostgreSQL container
// per run, initialised by deploy/postgres, and per system a NATS container
// configured by deploy/nats and a mail catcher container; the services
// still run as processes on the host. The images are the ones
// docker-compose.yml pins (MAIL_CATCHER_IMAGE applies, as for compose).
// The tests are the same; without a Docker engine they skip.

// dockerImages returns the images docker-compose.yml runs, by service.
func dockerImages(ctx context.Context, root string) (map[string]string, error) {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	p, err := loader.LoadWithContext(ctx, types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(root, "docker-compose.yml")}},
		Environment: env,
	})
	if err != nil {
		return nil, fmt.Errorf("load docker-compose.yml: %w", err)
	}
	images := map[string]string{}
	for name, svc := range p.Services {
		images[name] = svc.Image
	}
	for _, name := range []string{"nats", "postgres", "mailhog"} {
		if images[name] == "" {
			return nil, fmt.Errorf("docker-compose.yml: no image for %s", name)
		}
	}
	return images, nil
}

// dockerAnswers returns nil when a Docker engine answers testcontainers.
func dockerAnswers(ctx context.Context) error {
	p, err := testcontainers.NewDockerProvider()
	if err != nil {
		return err
	}
	defer p.Close()
	return p.Health(ctx)
}

// dockerInfra starts each system's NATS server and mail catcher as
// containers; it implements launcher.Infrastructure.
type dockerInfra struct {
	root   string
	images map[string]string
}

func (d dockerInfra) StartBroker(ctx context.Context) (launcher.Broker, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	c, err := tcnats.Run(ctx, d.images["nats"],
		// deploy/nats's config (JetStream, sync_interval: always, the
		// orderbus users) instead of the module's "-DV -js", which traces
		// every message; the users' development passwords in its
		// environment, as docker-compose.yml gives them.
		testcontainers.WithCmd("--config", "/etc/nats/nats-server.conf"),
		testcontainers.WithFiles(testcontainers.ContainerFile{
			HostFilePath:      filepath.Join(d.root, "deploy", "nats", "nats-server.conf"),
			ContainerFilePath: "/etc/nats/nats-server.conf",
			FileMode:          0o644,
		}, testcontainers.ContainerFile{
			HostFilePath:      filepath.Join(d.root, "deploy", "nats", "accounts.conf"),
			ContainerFilePath: "/etc/nats/accounts.conf",
			FileMode:          0o644,
		}),
		testcontainers.WithEnv(natsDevPasswords()),
		bindPorts(map[string]int{"4222/tcp": ports[0], "8222/tcp": ports[1]}),
		testcontainers.WithWaitStrategy(wait.ForHTTP("/healthz?js-enabled-only=true").WithPort("8222/tcp").
			WithStartupTimeout(60*time.Second)),
	)
	if err != nil {
		terminate(c)
		return nil, fmt.Errorf("nats container: %w", err)
	}
	return &natsContainer{containerLogs: containerLogs{c}, ctr: c, port: ports[0], monitor: ports[1]}, nil
}

func (d dockerInfra) StartMailCatcher(ctx context.Context) (launcher.MailCatcher, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	c, err := testcontainers.Run(ctx, d.images["mailhog"],
		testcontainers.WithExposedPorts("1025/tcp", "8025/tcp"),
		// As in docker-compose.yml: no reverse DNS lookup per SMTP client
		// (Mailpit; MailHog ignores it).
		testcontainers.WithEnv(map[string]string{"MP_SMTP_DISABLE_RDNS": "true"}),
		bindPorts(map[string]int{"1025/tcp": ports[0], "8025/tcp": ports[1]}),
		// A path MailHog and Mailpit both serve.
		testcontainers.WithWaitStrategy(wait.ForHTTP("/api/v1/messages").WithPort("8025/tcp").
			WithStartupTimeout(60*time.Second)),
	)
	if err != nil {
		terminate(c)
		return nil, fmt.Errorf("mail catcher container: %w", err)
	}
	return &mailContainer{containerLogs: containerLogs{c}, ctr: c, smtp: ports[0], http: ports[1]}, nil
}

// natsDevPasswords returns the environment giving nats-server every
// user's development password (natsauth.PasswordVar).
func natsDevPasswords() map[string]string {
	env := map[string]string{}
	for _, u := range natsauth.Names() {
		env[natsauth.PasswordVar(u)] = natsauth.DevPassword(u)
	}
	return env
}

// natsContainer is a NATS container on fixed host ports, so the services'
// NATS_URL stays right across Stop and Start.
type natsContainer struct {
	containerLogs
	ctr           testcontainers.Container
	port, monitor int
}

func (n *natsContainer) URL() string        { return fmt.Sprintf("nats://127.0.0.1:%d", n.port) }
func (n *natsContainer) MonitorURL() string { return fmt.Sprintf("http://127.0.0.1:%d", n.monitor) }
func (n *natsContainer) Stop(ctx context.Context) error {
	timeout := 10 * time.Second
	return n.ctr.Stop(ctx, &timeout)
}

// Start starts the container again; testcontainers waits for its
// readiness check (JetStream enabled) before returning.
func (n *natsContainer) Start(ctx context.Context) error { return n.ctr.Start(ctx) }
func (n *natsContainer) Close(ctx context.Context) error {
	return n.ctr.Terminate(ctx)
}

// mailContainer is a mail catcher container on fixed host ports.
type mailContainer struct {
	containerLogs
	ctr        testcontainers.Container
	smtp, http int
}

func (m *mailContainer) SMTPHost() string { return "127.0.0.1" }
func (m *mailContainer) SMTPPort() int    { return m.smtp }
func (m *mailContainer) APIURL() string   { return fmt.Sprintf("http://127.0.0.1:%d", m.http) }
func (m *mailContainer) Stop(ctx context.Context) error {
	timeout := 10 * time.Second
	return m.ctr.Stop(ctx, &timeout)
}
func (m *mailContainer) Start(ctx context.Context) error { return m.ctr.Start(ctx) }
func (m *mailContainer) Close(ctx context.Context) error { return m.ctr.Terminate(ctx) }

// containerLogs gives a container the LogTail the launcher prints on
// failure.
type containerLogs struct{ ctr testcontainers.Container }

func (c containerLogs) LogTail(lines int) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rc, err := c.ctr.Logs(ctx)
	if err != nil {
		return "(logs: " + err.Error() + ")"
	}
	defer rc.Close()
	var all []string
	sc := bufio.NewScanner(rc)
	for sc.Scan() {
		all = append(all, sc.Text())
	}
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

// dockerPostgres is the run's PostgreSQL container; it implements
// launcher.Database.
type dockerPostgres struct {
	ctr  *tcpostgres.PostgresContainer
	base *url.URL // the superuser's URL of database postgres
}

// startDockerPostgres starts PostgreSQL with deploy/postgres's init SQL,
// so a run also proves the roles and databases it creates.
func startDockerPostgres(ctx context.Context, root, image string) (*dockerPostgres, error) {
	c, err := tcpostgres.Run(ctx, image,
		tcpostgres.WithInitScripts(filepath.Join(root, "deploy", "postgres", "01-databases.sql")),
		tcpostgres.WithDatabase("postgres"),
		tcpostgres.WithUsername("postgres"),
		tcpostgres.WithPassword("postgres-dev-password"),
		tcpostgres.BasicWaitStrategies(),
	)
	if err != nil {
		terminate(c)
		return nil, fmt.Errorf("postgres container: %w", err)
	}
	raw, err := c.ConnectionString(ctx, "sslmode=disable")
	if err != nil {
		terminate(c)
		return nil, err
	}
	base, err := url.Parse(raw)
	if err != nil {
		terminate(c)
		return nil, err
	}
	pg := &dockerPostgres{ctr: c, base: base}
	// The init SQL ran: the service roles exist and own their databases.
	conn, err := pgx.Connect(ctx, pg.URL("postgres"))
	if err != nil {
		terminate(c)
		return nil, err
	}
	defer conn.Close(ctx)
	var owned int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba
		WHERE r.rolname LIKE '%\_svc'`).Scan(&owned); err != nil || owned != 5 {
		terminate(c)
		return nil, fmt.Errorf("deploy/postgres init SQL: %d databases owned by service roles, want 5 (%v)", owned, err)
	}
	return pg, nil
}

func (p *dockerPostgres) URL(database string) string {
	u := *p.base
	u.Path = "/" + database
	return u.String()
}

func (p *dockerPostgres) CreateDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, p.URL("postgres"))
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

func (p *dockerPostgres) Close(ctx context.Context) error { return p.ctr.Terminate(ctx) }

// bindPorts publishes container ports on the given loopback ports (a
// restarted container keeps them, unlike testcontainers' random ones).
func bindPorts(ports map[string]int) testcontainers.CustomizeRequestOption {
	return testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
		if hc.PortBindings == nil {
			hc.PortBindings = network.PortMap{}
		}
		for ctrPort, host := range ports {
			hc.PortBindings[network.MustParsePort(ctrPort)] = []network.PortBinding{{
				HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: strconv.Itoa(host),
			}}
		}
	})
}

func freePorts(n int) ([]int, error) {
	ports := make([]int, n)
	for i := range ports {
		p, err := stack.FreePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	return ports, nil
}

// terminate removes a container that failed to become ready; c may be nil.
func terminate(c testcontainers.Container) {
	_ = testcontainers.TerminateContainer(c)
}
