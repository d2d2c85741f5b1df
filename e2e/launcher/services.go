package launcher

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/orderbus/orderbus/pkg/natsauth"
)

// serviceSpec is what the launcher knows about one service.
type serviceSpec struct {
	// port is the service's HTTP port under Config.Fixed (as in DESIGN.md).
	port int
	// database is the name of the database the service owns; "" for a
	// service without one (the console).
	database string
	// env returns the variables the service needs beyond the common ones
	// (HTTP_ADDR, DATABASE_URL, NATS_URL, LOG_LEVEL, LOG_FORMAT).
	env func(s *System) map[string]string
	// order ranks services for starting and listing: lower first.
	order int
	// debug is whether the service serves Go's pprof on DEBUG_ADDR
	// (web.ServerSettings).
	debug bool
}

// catalog lists every service the launcher can run, by binary name. A new
// service is one line here; it takes part once services/<name> exists.
func catalog() map[string]serviceSpec {
	return map[string]serviceSpec{
		"order":     {order: 1, port: 8080, database: "orders", debug: true},
		"inventory": {order: 2, port: 8081, database: "inventory", debug: true},
		"gdpr":      {order: 3, port: 8082, database: "gdpr", debug: true, env: gdprEnv},
		"email":     {order: 4, port: 8083, database: "email", debug: true, env: smtpEnv},
		"sms":       {order: 5, port: 8084, database: "sms", debug: true, env: smsEnv},
		"console":   {order: 6, port: 8085, env: consoleEnv},
	}
}

// consoleEnv points the console at the /metrics of the system's other
// services; its redrive takes OperatorToken (AUTH_JWT_KEY comes with every
// service's authEnv).
func consoleEnv(s *System) map[string]string {
	var targets []string
	for _, name := range s.cfg.Services {
		if name != "console" {
			targets = append(targets, name+"="+s.ServiceURL(name))
		}
	}
	var participants []string
	for _, p := range gdprParticipants() {
		if slices.Contains(s.cfg.Services, p) {
			participants = append(participants, p)
		}
	}
	return map[string]string{
		"CONSOLE_SERVICES":             strings.Join(targets, ","),
		"CONSOLE_ERASURE_PARTICIPANTS": strings.Join(participants, ","),
		// The read-only identity: the page needs no more. A redrive
		// connects apart, as the operator identity.
		"NATS_USER":                     natsauth.UserReader,
		"NATS_PASSWORD":                 natsauth.DevPassword(natsauth.UserReader),
		"CONSOLE_REDRIVE_NATS_USER":     natsauth.UserAdmin,
		"CONSOLE_REDRIVE_NATS_PASSWORD": natsauth.DevPassword(natsauth.UserAdmin),
	}
}

// smtpEnv points a mail-sending service at the system's Mailpit.
func smtpEnv(s *System) map[string]string {
	return map[string]string{
		"SMTP_HOST": s.mailpit.SMTPHost(),
		"SMTP_PORT": strconv.Itoa(s.mailpit.SMTPPort()),
		"SMTP_TLS":  "none",
	}
}

// gdprParticipants are the services that erase a customer's data when
// asked; the gdpr service waits for each of them.
func gdprParticipants() []string { return []string{"order", "email", "sms", "inventory"} }

// gdprEnv gives the gdpr service as participants those of the system's
// services that take part, so that an erasure in a smaller system still
// completes.
func gdprEnv(s *System) map[string]string {
	var participants []string
	for _, p := range gdprParticipants() {
		if slices.Contains(s.cfg.Services, p) {
			participants = append(participants, p)
		}
	}
	return map[string]string{
		"GDPR_PARTICIPANTS": strings.Join(participants, ","),
	}
}

// smsEnv sends texts through the logging provider, which needs no account
// and delivers nothing; Config.Env can choose another (SMS_PROVIDER and
// its settings).
func smsEnv(*System) map[string]string {
	return map[string]string{"SMS_PROVIDER": "log"}
}

// HasDebugListener reports whether the service name serves Go's pprof
// profiles on DEBUG_ADDR: every service but the console.
func HasDebugListener(name string) bool { return catalog()[name].debug }

// DefaultServices are the services Start runs when Config.Services is
// empty, in start order: every service of the system.
func DefaultServices() []string { return []string{"order", "inventory", "gdpr", "email", "sms"} }

// KnownServices returns the names of every service the launcher can run,
// in start order.
func KnownServices() []string {
	return sortServices(slices.Collect(maps.Keys(catalog())))
}

// AvailableServices returns the known services whose source folder
// services/<name> exists under the repository root, in start order: what
// `make run` starts as services are added to the repository.
func AvailableServices(root string) []string {
	var names []string
	for _, name := range KnownServices() {
		if _, err := os.Stat(filepath.Join(root, "services", name, "main.go")); err == nil {
			names = append(names, name)
		}
	}
	return names
}

// sortServices orders names by their catalog rank; unknown names go last.
func sortServices(names []string) []string {
	known := catalog()
	rank := func(name string) int {
		if spec, ok := known[name]; ok {
			return spec.order
		}
		return len(known) + 1
	}
	names = slices.Clone(names)
	slices.SortStableFunc(names, func(a, b string) int { return rank(a) - rank(b) })
	return names
}

// ErrUnknownService is wrapped by errors about a service name the launcher
// does not know.
var ErrUnknownService = errors.New("unknown service")

func errUnknownService(name string) error {
	return fmt.Errorf("%w %q (known: %s)", ErrUnknownService, name, strings.Join(KnownServices(), ", "))
}
