package main

import (
	"strings"
	"testing"

	"github.com/orderbus/orderbus/e2e/launcher"
)

// TestDebugAddrs: -pprof gives each service but the console its own
// loopback debug port, in start order, and refuses two instances of one.
func TestDebugAddrs(t *testing.T) {
	t.Parallel()
	env := map[string]map[string]string{}
	names := []string{"order", "console", "email"}
	for _, n := range names {
		env[n] = map[string]string{}
	}
	urls, err := debugAddrs(launcher.Config{Services: names, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	if env["order"]["DEBUG_ADDR"] != "127.0.0.1:6060" || env["email"]["DEBUG_ADDR"] != "127.0.0.1:6061" {
		t.Errorf("DEBUG_ADDR = %v", env)
	}
	if _, ok := env["console"]["DEBUG_ADDR"]; ok || len(urls) != 2 {
		t.Errorf("console got a debug port, or urls = %q", urls)
	}
	_, err = debugAddrs(launcher.Config{Services: []string{"email"}, Instances: map[string]int{"email": 2},
		Env: map[string]map[string]string{"email": {}}})
	if err == nil || !strings.Contains(err.Error(), "email") {
		t.Errorf("two instances of email: %v, want a refusal naming it", err)
	}
}
