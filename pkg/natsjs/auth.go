package natsjs

import (
	"fmt"
	neturl "net/url"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/orderbus/orderbus/pkg/config"
	"github.com/orderbus/orderbus/pkg/natsauth"
)

// Auth returns the connect options of a's credentials: user and password,
// a credentials file, or an nkey seed file, and its TLS files (the CA to
// trust, a client certificate); none for the zero NATSAuth. An unreadable
// seed, CA or certificate file makes Connect fail with its error.
func Auth(a config.NATSAuth) []nats.Option {
	var opts []nats.Option
	if a.User != "" {
		opts = append(opts, nats.UserInfo(a.User, a.Password))
	}
	if a.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(a.CredsFile))
	}
	if a.NKeySeedFile != "" {
		seed := a.NKeySeedFile
		opts = append(opts, func(o *nats.Options) error {
			opt, err := nats.NkeyOptionFromSeed(seed)
			if err != nil {
				return fmt.Errorf("nats nkey seed %s: %w", seed, err)
			}
			return opt(o)
		})
	}
	if a.TLSCAFile != "" {
		opts = append(opts, nats.RootCAs(a.TLSCAFile))
	}
	if a.TLSCertFile != "" {
		opts = append(opts, nats.ClientCert(a.TLSCertFile, a.TLSKeyFile))
	}
	return opts
}

// InboxOption returns the option giving a connection as user U (from opts
// or from the user info of url) the reply inbox prefix
// natsauth.InboxPrefix(U), which is all the orderbus permissions let U
// subscribe to; nil when there is no user or opts set a prefix already.
// Connect applies it itself; a client calling nats.Connect directly (a
// tool failing fast) adds it to its options.
func InboxOption(url string, opts []nats.Option) nats.Option {
	o := nats.GetDefaultOptions()
	for _, opt := range opts {
		_ = opt(&o) // errors surface again in nats.Connect
	}
	if o.InboxPrefix != "" {
		return nil
	}
	user := o.User
	if user == "" {
		first := strings.TrimSpace(strings.Split(url, ",")[0])
		if !strings.Contains(first, "://") {
			first = "nats://" + first
		}
		if u, err := neturl.Parse(first); err == nil && u.User != nil {
			if _, hasPassword := u.User.Password(); hasPassword {
				user = u.User.Username()
			}
		}
	}
	if user == "" {
		return nil
	}
	return nats.CustomInboxPrefix(natsauth.InboxPrefix(user))
}
