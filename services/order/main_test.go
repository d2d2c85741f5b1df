package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

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
