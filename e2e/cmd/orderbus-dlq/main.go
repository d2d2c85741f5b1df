// Command orderbus-dlq lets an operator inspect and act on the dead letters
// in the DLQ stream of a running orderbus system (make run, or docker
// compose): list them, show one, redrive them to the consumer that gave up,
// and purge them. See usage below, or run it with -help.
//
//	go run ./e2e/cmd/orderbus-dlq list
//	make dlq ARGS="redrive -consumer email"
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/config"
	"github.com/orderbus/orderbus/pkg/dlq"
	"github.com/orderbus/orderbus/pkg/natsjs"
)

// Exit codes; usage lists them.
const (
	exitOK         = 0
	exitFailed     = 1
	exitUsage      = 2
	exitNotAcked   = 3
	exitDeadLetter = 4
)

const defaultURL = "nats://127.0.0.1:4222"

const usage = `orderbus-dlq: list, show, redrive and purge orderbus dead letters (the DLQ stream).

usage:
  orderbus-dlq [-nats URL] [-creds FILE] COMMAND [flags] [args]
  (from the repository: go run ./e2e/cmd/orderbus-dlq COMMAND ..., or make dlq ARGS="COMMAND ...")

commands:
  list [-filter F] [-json]
        list the dead letters (oldest first): DLQ seq, age, consumer, reason,
        event type, order id, original subject, error. Never a message body.
  show [-json] SEQ
        show one dead letter with its headers and body (the body may hold
        personal data).
  redrive [-wait 30s] [-json] SEQ... | -consumer NAME | -filter F
        republish dead letters to their original subjects for the consumer
        that gave up on them (every other consumer skips them), wait until
        that consumer has acknowledged each, then delete its DLQ copy. A
        copy not acknowledged within -wait stays; redriving it again is
        harmless.
  purge -filter F | -consumer NAME | -all  [-yes]
        delete dead letters for good. Without -yes it only says how many it
        would delete (and exits 2).

filter F: ` + dlq.FilterSyntax + `

global flags:
  -nats URL     NATS server(s), comma-separated (default $NATS_URL, else ` + defaultURL + `)
  -creds FILE   NATS credentials file (default $NATS_CREDS)
  NATS_USER, NATS_PASSWORD  user and password (or in the URL: nats://user:password@host:4222);
                the development users are reader (list, show) and admin (every command)

exit codes:
  0  done
  1  failed: NATS unreachable, no DLQ stream, dead letter not found, a NATS error
  2  usage error, or purge without -yes (nothing deleted)
  3  redrive: not acknowledged within -wait; the dead letter stays in the DLQ
  4  redrive: acknowledged, but the consumer dead-lettered it again (new seq shown)
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitError carries an exit code other than exitFailed. A nil err means
// the command already said everything on stdout.
type exitError struct {
	code int
	err  error
	// usage marks a command-line mistake: the -help hint follows it.
	usage bool
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit code %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageError is a mistake on the command line: exit code 2.
func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...), usage: true}
}

// run is the whole command: it parses args (args[0] is the program name),
// runs one command and returns the exit code. getenv supplies NATS_URL
// and NATS_CREDS.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	err := runCommand(ctx, args, getenv, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err == nil {
		return exitOK
	}
	e, ok := errors.AsType[*exitError](err)
	if !ok {
		e = &exitError{code: exitFailed, err: err}
	}
	if e.err != nil {
		fmt.Fprintln(stderr, "orderbus-dlq:", e.err)
	}
	if e.usage {
		fmt.Fprintln(stderr, "run orderbus-dlq -help for usage")
	}
	return e.code
}

// command parses one subcommand's flags and arguments, and returns what
// it will do once connected; a mistake is a usageError.
type command func(args []string) (action, error)

// action acts on the DLQ and reports to stdout.
type action func(ctx context.Context, q *dlq.DLQ, stdout io.Writer) error

func runCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("orderbus-dlq", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	natsURL := fs.String("nats", or(getenv("NATS_URL"), defaultURL), "")
	creds := fs.String("creds", getenv("NATS_CREDS"), "")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return err
		}
		return usageError("%v", err)
	}
	if fs.NArg() == 0 {
		return usageError("no command (want list, show, redrive or purge)")
	}
	commands := map[string]command{"list": list, "show": show, "redrive": redrive, "purge": purge}
	name, rest := fs.Arg(0), fs.Args()[1:]
	if name == "help" {
		fmt.Fprint(stdout, usage)
		return flag.ErrHelp
	}
	cmd, ok := commands[name]
	if !ok {
		return usageError("unknown command %q (want list, show, redrive or purge)", name)
	}
	// Flags are checked before connecting, so a typo fails fast.
	act, err := cmd(rest)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
	}
	if err != nil {
		return err
	}
	// A refused request gets no answer, only an asynchronous error: end
	// the command with it at once rather than at a timeout.
	ctx, refuse := context.WithCancelCause(ctx)
	defer refuse(nil)
	nc, err := connect(*natsURL, refuse, config.NATSAuth{User: getenv("NATS_USER"), Password: getenv("NATS_PASSWORD"), CredsFile: *creds})
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	q, err := dlq.Open(ctx, js)
	if errors.Is(err, dlq.ErrNoStream) {
		return fmt.Errorf("%w at %s: has a service run against this server yet?", err, redact(*natsURL))
	}
	if err != nil {
		return err
	}
	err = act(ctx, q, stdout)
	if cause := context.Cause(ctx); err != nil && errors.Is(cause, nats.ErrPermissionViolation) {
		return fmt.Errorf("%w (does this NATS user have the right? list and show need the reader, redrive and purge the admin)", cause)
	}
	return err
}

// connect dials NATS once with auth's credentials (and the user's reply
// inbox), failing fast when no server answers. A permissions violation
// is passed to refused.
func connect(natsURL string, refused func(error), auth config.NATSAuth) (*nats.Conn, error) {
	opts := append([]nats.Option{nats.Name("orderbus-dlq"), nats.Timeout(5 * time.Second),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrPermissionViolation) {
				refused(err)
			}
		})}, natsjs.Auth(auth)...)
	if inbox := natsjs.InboxOption(natsURL, opts); inbox != nil {
		opts = append(opts, inbox)
	}
	nc, err := nats.Connect(natsURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect nats %s: %w", redact(natsURL), err)
	}
	return nc, nil
}

// redact hides passwords and tokens in a comma-separated URL list.
func redact(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			u.User = url.User("redacted")
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}

func or(s, def string) string {
	if s != "" {
		return s
	}
	return def
}
