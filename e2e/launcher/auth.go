package launcher

import (
	"fmt"
	"time"

	"github.com/orderbus/orderbus/pkg/auth"
)

// DevJWTKey is the AUTH_JWT_KEY the launcher gives every service: the
// published development key (auth.DevelopmentKey), allowed only because
// the launcher also sets ORDERBUS_ENV=development. A deployment sets its
// own secret key.
const DevJWTKey = auth.DevelopmentKey

// DevTokenTTL is how long the tokens OperatorToken and CustomerToken mint
// stay valid.
const DevTokenTTL = 24 * time.Hour

// authEnv is what every service gets for authorization: the development
// key, the development environment, and no rate limits (the e2e suite,
// the bench and the chaos runs place orders at full speed from one
// address; Config.Env turns a limit back on, as `make run` does).
func authEnv() map[string]string {
	return map[string]string{
		"AUTH_JWT_KEY":        DevJWTKey,
		"ORDERBUS_ENV":        auth.EnvDevelopment,
		"RATE_LIMIT_ORDERS":   "0",
		"RATE_LIMIT_ERASURES": "0",
	}
}

// OperatorToken returns a development operator token holding every role
// (auth.Roles), valid for DevTokenTTL: the bearer token of the e2e tests
// and the one `make run` prints.
func (s *System) OperatorToken() string { return DevOperatorToken() }

// DevOperatorToken is OperatorToken for a tool that talks to a system it
// did not start (make run, docker compose): both use DevJWTKey.
func DevOperatorToken() string { return mustMint("ops-dev", auth.Roles()...) }

// CustomerToken returns a development token of the customer customerID,
// valid for DevTokenTTL: it reads that customer's orders and requests its
// erasure.
func (s *System) CustomerToken(customerID string) string {
	return mustMint(customerID)
}

// mustMint mints a token with the development key, which cannot fail for
// a non-empty subject and known roles.
func mustMint(subject string, roles ...string) string {
	tok, err := auth.MustKeys(DevJWTKey).Mint(subject, DevTokenTTL, roles...)
	if err != nil {
		panic(fmt.Sprintf("mint development token: %v", err))
	}
	return tok
}
