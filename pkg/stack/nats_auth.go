package stack

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"

	"github.com/orderbus/orderbus/pkg/natsauth"
)

// NATSAuth turns on the orderbus identities (pkg/natsauth) on a server
// StartNATS starts: the server refuses anonymous clients and knows every
// user of natsauth.Users with its permissions, as deploy/nats does.
type NATSAuth struct {
	// Passwords holds each user's password; a user it lacks gets
	// natsauth.DevPassword.
	Passwords map[string]string
	// Limits are the account's JetStream limits; the zero value means
	// natsauth.DefaultLimits.
	Limits natsauth.Limits
}

// password returns user's password.
func (a *NATSAuth) password(user string) string {
	if p, ok := a.Passwords[user]; ok {
		return p
	}
	return natsauth.DevPassword(user)
}

// writeAccounts writes natsauth.Render into dir/accounts.conf and returns
// the line including it and the environment holding the passwords.
func (a *NATSAuth) writeAccounts(dir string) (include string, env []string, err error) {
	limits := a.Limits
	if limits == (natsauth.Limits{}) {
		limits = natsauth.DefaultLimits()
	}
	file := filepath.Join(dir, "accounts.conf")
	if err := os.WriteFile(file, natsauth.Render(limits), 0o600); err != nil {
		return "", nil, fmt.Errorf("nats accounts: %w", err)
	}
	env = os.Environ()
	for _, u := range natsauth.Names() {
		env = append(env, natsauth.PasswordVar(u)+"="+a.password(u))
	}
	return "include \"accounts.conf\"\n", env, nil // relative to the main file
}

// Password returns user's password on this server, "" when it runs
// without NATSConfig.Auth.
func (n *NATS) Password(user string) string {
	if n.cfg.Auth == nil {
		return ""
	}
	return n.cfg.Auth.password(user)
}

// UserURL returns the client URL with user's credentials,
// nats://user:password@127.0.0.1:PORT, or URL without NATSConfig.Auth.
func (n *NATS) UserURL(user string) string {
	if n.cfg.Auth == nil {
		return n.URL()
	}
	u := url.URL{Scheme: "nats", User: url.UserPassword(user, n.Password(user)), Host: fmt.Sprintf("127.0.0.1:%d", n.cfg.Port)}
	return u.String()
}

// Users returns the names of the server's users, nil without
// NATSConfig.Auth.
func (n *NATS) Users() []string {
	if n.cfg.Auth == nil {
		return nil
	}
	return slices.Clone(natsauth.Names())
}
