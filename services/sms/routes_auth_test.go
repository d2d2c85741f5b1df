package main

import (
	"testing"

	"github.com/orderbus/orderbus/pkg/servicetest"
)

// TestListingNeedsOperatorRead: GET /v1/messages holds every customer's
// recipients, so it answers 401 without a credential, 403 to a customer
// and to an operator without operator:read, and 200 to operator:read.
func TestListingNeedsOperatorRead(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	servicetest.CheckOperatorRead(t, e.Service, "/v1/messages?to=%2B442071838750")
}
