package launcher

import (
	"context"

	"github.com/orderbus/orderbus/pkg/stack"
)

// Broker is a system's NATS server with JetStream. *stack.NATS (a local
// process) is one; the e2e suite's Docker infrastructure provides another.
type Broker interface {
	// URL returns the client URL, such as nats://127.0.0.1:4222.
	URL() string
	// MonitorURL returns the monitoring base URL, such as http://127.0.0.1:8222.
	MonitorURL() string
	// Stop stops the server, keeping its store and its ports for Start.
	Stop(ctx context.Context) error
	// Start starts it again after Stop and returns once JetStream answers.
	Start(ctx context.Context) error
	// Close stops it for good and removes its data.
	Close(ctx context.Context) error
}

// MailCatcher is a system's SMTP mail catcher with an HTTP API that
// pkg/mailcatch reads (Mailpit or MailHog). *stack.Mailpit is one.
type MailCatcher interface {
	SMTPHost() string
	SMTPPort() int
	// APIURL returns the base URL of the HTTP API, for mailcatch.New.
	APIURL() string
	// Stop stops the catcher, keeping its ports for Start.
	Stop(ctx context.Context) error
	// Start starts it again after Stop.
	Start(ctx context.Context) error
	// Close stops it for good.
	Close(ctx context.Context) error
}

// Database is a PostgreSQL server the system creates its databases on.
// *stack.Postgres is one.
type Database interface {
	// URL returns a URL of the named database with rights to migrate it.
	URL(database string) string
	// CreateDatabase creates an empty database.
	CreateDatabase(ctx context.Context, name string) error
}

// Infrastructure starts a system's broker and mail catcher. Config's nil
// Infrastructure starts them as local processes (pkg/stack).
type Infrastructure interface {
	StartBroker(ctx context.Context) (Broker, error)
	StartMailCatcher(ctx context.Context) (MailCatcher, error)
}

// processOf returns the local process behind infrastructure, or nil when
// it is not one (a container).
func processOf(v any) *stack.Process {
	if p, ok := v.(interface{ Process() *stack.Process }); ok {
		return p.Process()
	}
	return nil
}

// logTailer is infrastructure that is not a local process but can show
// the end of its log (a container).
type logTailer interface {
	LogTail(lines int) string
}
