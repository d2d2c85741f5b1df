package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/orderbus/orderbus/pkg/auth"
	"github.com/orderbus/orderbus/pkg/pgtest"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { pgtest.Main(m, &cluster) }

func TestRunFailsWithoutDatabaseURL(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	err := run(context.Background(), []string{"order"}, func(string) string { return "" }, &logs, &logs)
	if err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Fatalf("run without DATABASE_URL = %v, want an error naming DATABASE_URL", err)
	}
}

// TestRunRefusesTheDevelopmentKey: outside ORDERBUS_ENV=development the
// service does not start with the published development key.
func TestRunRefusesTheDevelopmentKey(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": "postgres://127.0.0.1:1/none", "AUTH_JWT_KEY": auth.DevelopmentKey, "ORDERBUS_ENV": "production"}
	var logs bytes.Buffer
	err := run(context.Background(), []string{"order"}, func(k string) string { return env[k] }, &logs, &logs)
	if !errors.Is(err, auth.ErrDevelopmentKey) || !strings.Contains(err.Error(), "ORDERBUS_ENV=development") {
		t.Fatalf("run with the development key = %v, want an error naming ORDERBUS_ENV=development", err)
	}
}
