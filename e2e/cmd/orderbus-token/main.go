// Command orderbus-token mints development tokens (make token): signed
// with AUTH_JWT_KEY, by default the published development key that make
// run and docker compose give the services. It prints the token alone, for
// use as "Authorization: Bearer $(make -s token)".
//
// Usage:
//
//	orderbus-token                             an operator token with every role
//	orderbus-token -roles operator:read        an operator token with these roles
//	orderbus-token -customer <customer id>     a customer token
//	orderbus-token -ttl 1h -subject ops-alice  validity and subject
//
// With a key of your own (AUTH_JWT_KEY set to anything but the development
// key) it mints tokens for that deployment: keep them as secret as the key.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/orderbus/orderbus/pkg/auth"
)

func main() {
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "orderbus-token:", err)
		os.Exit(1)
	}
}

// run parses the flags and prints one token to stdout.
func run(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	customer := fs.String("customer", "", "mint a customer token for this customer id (a UUID); no roles")
	roles := fs.String("roles", strings.Join(auth.Roles(), ","), "comma-separated roles of an operator token (known: "+strings.Join(auth.Roles(), ", ")+")")
	subject := fs.String("subject", "ops-dev", "subject of an operator token")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	key := getenv("AUTH_JWT_KEY")
	if key == "" {
		key = auth.DevelopmentKey
	}
	keys, err := auth.NewKeys(key)
	if err != nil {
		return fmt.Errorf("AUTH_JWT_KEY: %w", err)
	}
	var tok string
	switch {
	case *customer != "":
		id, err := uuid.Parse(*customer)
		if err != nil {
			return fmt.Errorf("-customer %q: not a UUID", *customer)
		}
		tok, err = keys.Mint(id.String(), *ttl)
		if err != nil {
			return err
		}
	default:
		var rs []string
		for r := range strings.SplitSeq(*roles, ",") {
			if r = strings.TrimSpace(r); r != "" {
				rs = append(rs, r)
			}
		}
		if len(rs) == 0 {
			return errors.New("-roles is empty: an operator token needs a role (or use -customer)")
		}
		if tok, err = keys.Mint(*subject, *ttl, rs...); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}
