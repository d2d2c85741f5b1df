package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/orderbus/orderbus/pkg/natsauth"
)

// EnvDevelopment is the ORDERBUS_ENV value under which the published
// development secrets (the NATS passwords of natsauth.DevPassword, the
// development JWT key...) are accepted.
const EnvDevelopment = "development"

// ErrDevelopmentSecret is wrapped by Validate errors about a published
// development secret used outside ORDERBUS_ENV=development.
var ErrDevelopmentSecret = errors.New("published development secret outside ORDERBUS_ENV=development")

// NATSAuth holds a service's NATS credentials, one kind at most (embedded
// in Service): a user and password (the identities of pkg/natsauth, as
// deploy/nats and the launcher configure them), a credentials file (JWT
// and nkey seed, for a server in operator mode), or an nkey seed file.
// None means an anonymous connection, which the orderbus servers refuse.
// A user and password may also be given in NATS_URL
// (nats://user:password@host:4222).
type NATSAuth struct {
	// User and Password are the NATS user name and its password.
	User     string `env:"NATS_USER"`
	Password string `env:"NATS_PASSWORD"`
	// CredsFile is the path of a .creds file (nats.UserCredentials).
	CredsFile string `env:"NATS_CREDS"`
	// NKeySeedFile is the path of a file holding a user nkey seed (SU...).
	NKeySeedFile string `env:"NATS_NKEY_SEED"`
	// TLSCAFile is a PEM file of the CA(s) that signed the server's
	// certificate, for tls:// URLs; empty means the system's roots.
	TLSCAFile string `env:"NATS_TLS_CA"`
	// TLSCertFile and TLSKeyFile are a client certificate and its key, for
	// a server that verifies clients (tls { verify: true }).
	TLSCertFile string `env:"NATS_TLS_CERT"`
	TLSKeyFile  string `env:"NATS_TLS_KEY"`
}

// Validate returns an error for a password without a user (or a user
// without a password), for more than one kind of credentials, and for a
// client certificate without its key (or the reverse). With
// environment other than EnvDevelopment, a development password (in
// NATS_PASSWORD or in any NATS_URL of urls) wraps ErrDevelopmentSecret.
func (a NATSAuth) Validate(environment, urls string) error {
	var errs []error
	if (a.User == "") != (a.Password == "") {
		errs = append(errs, errors.New("NATS_USER and NATS_PASSWORD: set both or neither"))
	}
	kinds := 0
	for _, set := range []bool{a.User != "", a.CredsFile != "", a.NKeySeedFile != ""} {
		if set {
			kinds++
		}
	}
	if kinds > 1 {
		errs = append(errs, errors.New("NATS_USER, NATS_CREDS, NATS_NKEY_SEED: set one kind of credentials"))
	}
	if (a.TLSCertFile == "") != (a.TLSKeyFile == "") {
		errs = append(errs, errors.New("NATS_TLS_CERT and NATS_TLS_KEY: set both or neither"))
	}
	if environment != EnvDevelopment {
		passwords := []string{a.Password}
		for _, raw := range strings.Split(urls, ",") {
			if u, err := url.Parse(strings.TrimSpace(raw)); err == nil && u.User != nil {
				p, _ := u.User.Password()
				passwords = append(passwords, p)
			}
		}
		for _, p := range passwords {
			if p != "" && natsauth.IsDevPassword(p) {
				errs = append(errs, fmt.Errorf("NATS_PASSWORD: %w (ORDERBUS_ENV is %q); give the service its own password "+
					"(and nats-server the same one in NATS_PASSWORD_<USER>)", ErrDevelopmentSecret, environment))
				break
			}
		}
	}
	return errors.Join(errs...)
}

// devDatabasePasswordSuffix ends every published development password of
// a service's PostgreSQL role (deploy/postgres, the launcher):
// "order-dev-password"...
const devDatabasePasswordSuffix = "-dev-password"

// checkDatabaseURL returns an error wrapping ErrDevelopmentSecret when
// the password of databaseURL is a published development one and
// environment is not EnvDevelopment.
func checkDatabaseURL(environment, databaseURL string) error {
	if environment == EnvDevelopment {
		return nil
	}
	u, err := url.Parse(databaseURL)
	if err != nil || u.User == nil {
		return nil
	}
	if p, _ := u.User.Password(); strings.HasSuffix(p, devDatabasePasswordSuffix) {
		return fmt.Errorf("DATABASE_URL: %w (ORDERBUS_ENV is %q); give the service's role its own password", ErrDevelopmentSecret, environment)
	}
	return nil
}

// LogValue logs nats_user, nats_creds, nats_nkey_seed and the TLS files
// (paths), and whether a password is set, never the password.
func (a NATSAuth) LogValue() slog.Value {
	password := ""
	if a.Password != "" {
		password = Mask
	}
	return slog.GroupValue(
		slog.String("nats_user", a.User),
		slog.String("nats_password", password),
		slog.String("nats_creds", a.CredsFile),
		slog.String("nats_nkey_seed", a.NKeySeedFile),
		slog.String("nats_tls_ca", a.TLSCAFile),
		slog.String("nats_tls_cert", a.TLSCertFile),
	)
}
