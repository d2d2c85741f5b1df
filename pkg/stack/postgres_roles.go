package stack

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5"
)

// hbaConf is the client authentication of a cluster StartPostgres starts:
// the superuser postgres, which the launcher and the tests use to create
// databases and roles, is trusted on the loopback and the socket (a
// throwaway cluster bound to 127.0.0.1); every other role must give its
// password (SCRAM), so a service role cannot log in without its secret.
const hbaConf = `# Written by pkg/stack (postgres_roles.go) at every start.
# TYPE  DATABASE USER      ADDRESS        METHOD
local   all      postgres                 trust
host    all      postgres  127.0.0.1/32   trust
local   all      all                      scram-sha-256
host    all      all       127.0.0.1/32   scram-sha-256
`

// writeHBA replaces the cluster's pg_hba.conf with hbaConf.
func (p *Postgres) writeHBA() error {
	file := filepath.Join(p.cfg.Dir, "data", "pg_hba.conf")
	if err := os.WriteFile(file, []byte(hbaConf), 0o600); err != nil {
		return fmt.Errorf("postgres: write pg_hba.conf: %w", err)
	}
	if p.cred != nil {
		if err := os.Chown(file, int(p.cred.Uid), int(p.cred.Gid)); err != nil {
			return fmt.Errorf("postgres: hand pg_hba.conf to the postgres user: %w", err)
		}
	}
	return nil
}

// CreateServiceDatabase creates database owned by a new login role with
// password (stored as SCRAM), as deploy/postgres does for compose: the
// role is no superuser and may create neither databases nor roles;
// CONNECT and TEMPORARY on the database are revoked from PUBLIC, so no
// other role (but the superuser) may connect to it. The role owns the
// database, so it can run the service's migrations.
func (p *Postgres) CreateServiceDatabase(ctx context.Context, database, role, password string) error {
	conn, err := pgx.Connect(ctx, p.URL("postgres"))
	if err != nil {
		return fmt.Errorf("create database %s: %w", database, err)
	}
	defer conn.Close(ctx)
	db, r := pgx.Identifier{database}.Sanitize(), pgx.Identifier{role}.Sanitize()
	// CREATE ROLE takes no parameters: quote the password as a literal.
	lit, err := conn.PgConn().EscapeString(password)
	if err != nil {
		return fmt.Errorf("create role %s: %w", role, err)
	}
	for _, stmt := range []string{
		"SET password_encryption = 'scram-sha-256'",
		"CREATE ROLE " + r + " LOGIN PASSWORD '" + lit + "' NOSUPERUSER NOCREATEDB NOCREATEROLE",
		"CREATE DATABASE " + db + " OWNER " + r,
		"REVOKE CONNECT, TEMPORARY ON DATABASE " + db + " FROM PUBLIC",
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("create database %s for role %s: %w", database, role, err)
		}
	}
	return nil
}

// RoleURL returns the URL of database for role with password:
// postgres://role:password@127.0.0.1:PORT/database?sslmode=disable.
func (p *Postgres) RoleURL(database, role, password string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(role, password),
		Host: fmt.Sprintf("127.0.0.1:%d", p.cfg.Port), Path: "/" + database, RawQuery: "sslmode=disable"}
	return u.String()
}
