package main

import (
	"testing"

	"github.com/orderbus/orderbus/pkg/servicetest"
)

// TestListingNeedsOperatorRead: GET /v1/mails holds every customer's
// recipients, so it answers 401 without a credential, 403 to a customer
// and to an operator without operator:read, and 200 to operator:read.
func TestListingNeedsOperatorRead(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	servicetest.CheckOperatorRead(t, e.Service, "/v1/mails?order_id=0193f1e4-1234-7000-8000-000000000001")
}
