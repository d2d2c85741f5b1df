package main

import (
	"fmt"
	"io"

	"github.com/orderbus/orderbus/e2e/launcher"
)

// printCredentials prints the development credentials: every service runs
// with the published development key (ORDERBUS_ENV=development), so this
// operator token works against all of them. Rate limits are off under
// make run (docker compose keeps the services' defaults).
func printCredentials(w io.Writer, sys *launcher.System) {
	fmt.Fprintf(w, "Development credentials (ORDERBUS_ENV=development, the published key; never use them elsewhere):\n")
	fmt.Fprintf(w, "  operator token, every role, valid %s:\n", launcher.DevTokenTTL)
	fmt.Fprintf(w, "  export ORDERBUS_TOKEN=%s\n", sys.OperatorToken())
	fmt.Fprintf(w, "  more tokens: make token ARGS=\"-customer <id>\" or scripts/token.sh; rate limits are off under make run\n\n")
}
