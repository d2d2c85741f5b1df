package stack_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/pkg/stack"
)

// TestServiceRoles checks that a service role reaches its own database
// with its password, and neither without it, with a wrong one, nor
// another service's database with its own; and that it is no superuser.
func TestServiceRoles(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pg, err := stack.StartPostgres(ctx, stack.PostgresConfig{Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Stop(context.Background()) })
	for _, svc := range []string{"orders", "sms"} {
		if err := pg.CreateServiceDatabase(ctx, svc, svc+"_svc", svc+"-pw"); err != nil {
			t.Fatal(err)
		}
	}

	conn, err := pgx.Connect(ctx, pg.RoleURL("orders", "orders_svc", "orders-pw"))
	if err != nil {
		t.Fatalf("own database with its password: %v", err)
	}
	defer conn.Close(ctx)
	var super bool
	if err := conn.QueryRow(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super); err != nil || super {
		t.Errorf("service role superuser = %v (%v), want false", super, err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE t (id int)"); err != nil {
		t.Errorf("the owner cannot create a table (migrations): %v", err)
	}

	refused := map[string]struct{ url, want string }{
		"another service's database": {pg.RoleURL("sms", "orders_svc", "orders-pw"), "permission denied for database"},
		"wrong password":             {pg.RoleURL("orders", "orders_svc", "guess"), "password authentication failed"},
		"no password":                {strings.Replace(pg.RoleURL("orders", "orders_svc", "x"), ":x@", "@", 1), "password"},
		"other role's password":      {pg.RoleURL("orders", "orders_svc", "sms-pw"), "password authentication failed"},
	}
	for name, tt := range refused {
		c, err := pgx.Connect(ctx, tt.url)
		if err == nil {
			c.Close(ctx)
			t.Errorf("%s: connected, want refused", name)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", name, err, tt.want)
		}
	}
}
