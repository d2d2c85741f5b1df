package launcher

import (
	"testing"

	"github.com/orderbus/orderbus/pkg/auth"
)

// TestDevelopmentCredentials: the services get the development key with
// ORDERBUS_ENV=development (which their config accepts), and the tokens
// the launcher mints verify with it.
func TestDevelopmentCredentials(t *testing.T) {
	t.Parallel()
	env := authEnv()
	s := auth.Settings{JWTKey: env["AUTH_JWT_KEY"], Environment: env["ORDERBUS_ENV"]}
	if err := s.Validate(); err != nil {
		t.Fatalf("the services would refuse the launcher's settings: %v", err)
	}
	keys := auth.MustKeys(DevJWTKey)
	op, err := keys.Verify(DevOperatorToken())
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range auth.Roles() {
		if !op.Has(role) {
			t.Errorf("operator token lacks %s", role)
		}
	}
	const customer = "0193f1e4-1234-7000-8000-00000000000a"
	c, err := keys.Verify((&System{}).CustomerToken(customer))
	if err != nil || !c.CanRead(customer) || c.IsOperator() {
		t.Fatalf("customer token: %+v %v", c, err)
	}
}
