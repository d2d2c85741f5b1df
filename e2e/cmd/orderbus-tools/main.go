// Command orderbus-tools builds the pinned tool binaries (nats-server,
// Mailpit with its web UI when npm is installed, the nats CLI) into the
// git-ignored tools folder and prints their paths. Tests and the launcher build what they need on first use; this
// command lets `make tools` do it up front.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/orderbus/orderbus/pkg/stack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "orderbus-tools:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, names []string, stdout io.Writer) error {
	if len(names) == 0 {
		names = []string{"nats-server", "mailpit"}
	}
	for _, name := range names {
		path, err := stack.Tool(ctx, name)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, path)
		if name == "mailpit" && !stack.MailpitHasUI() {
			fmt.Fprintln(stdout, "  (Mailpit without its web UI: REST API only; install npm and run make tools again for the UI)")
		}
	}
	return nil
}
