package launcher

import (
	"context"
)

// roleDatabase is a Database that can give each service its own login
// role, owner of its database only, with a password (*stack.Postgres
// does). On one that cannot, the services connect with URL's rights.
type roleDatabase interface {
	CreateServiceDatabase(ctx context.Context, database, role, password string) error
	RoleURL(database, role, password string) string
}

// DevDatabasePassword returns the published development password of
// service's PostgreSQL role, as deploy/postgres sets it for compose.
func DevDatabasePassword(service string) string { return service + "-dev-password" }

// databaseRole returns the name of svc's role: <service>_svc as in
// deploy/postgres, with the system's database prefix on a shared server.
func (s *System) databaseRole(svc *service) string { return s.dbPrefix + svc.base + "_svc" }

// createDatabase creates svc's database, owned by its own role where the
// server allows.
func (s *System) createDatabase(ctx context.Context, svc *service) error {
	if rdb, ok := s.pg.(roleDatabase); ok {
		return rdb.CreateServiceDatabase(ctx, svc.database, s.databaseRole(svc), DevDatabasePassword(svc.base))
	}
	return s.pg.CreateDatabase(ctx, svc.database)
}

// databaseURL returns the URL svc connects with: as its own role, never
// the superuser, where the server allows.
func (s *System) databaseURL(svc *service) string {
	if rdb, ok := s.pg.(roleDatabase); ok {
		return rdb.RoleURL(svc.database, s.databaseRole(svc), DevDatabasePassword(svc.base))
	}
	return s.pg.URL(svc.database)
}
