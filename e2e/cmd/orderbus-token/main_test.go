package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/orderbus/orderbus/pkg/auth"
)

func TestMintsVerifiableTokens(t *testing.T) {
	t.Parallel()
	const customer = "0193f1e4-1234-7000-8000-00000000000a"
	keys := auth.MustKeys(auth.DevelopmentKey)
	for _, tt := range []struct {
		name    string
		args    []string
		subject string
		roles   []string
	}{
		{name: "operator", args: nil, subject: "ops-dev", roles: auth.Roles()},
		{name: "one role", args: []string{"-roles", "stock:write", "-subject", "ops-alice"}, subject: "ops-alice", roles: []string{"stock:write"}},
		{name: "customer", args: []string{"-customer", strings.ToUpper(customer)}, subject: customer},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			if err := run(context.Background(), append([]string{"orderbus-token"}, tt.args...), func(string) string { return "" }, &out, io.Discard); err != nil {
				t.Fatal(err)
			}
			c, err := keys.Verify(strings.TrimSpace(out.String()))
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject != tt.subject || len(c.Roles) != len(tt.roles) {
				t.Fatalf("caller %+v, want %s with %v", c, tt.subject, tt.roles)
			}
		})
	}
}

func TestRefusesBadInput(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-customer", "42"}, {"-roles", "root"}, {"-roles", ""}} {
		if err := run(context.Background(), append([]string{"orderbus-token"}, args...), func(string) string { return "" }, io.Discard, io.Discard); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	short := func(string) string { return "short" }
	if err := run(context.Background(), []string{"orderbus-token"}, short, io.Discard, io.Discard); err == nil {
		t.Error("a short AUTH_JWT_KEY was accepted")
	}
}
