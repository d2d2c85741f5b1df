package lifecycle_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/lifecycle"
)

// TestShutdownRunsStagesInOrder: the consumers' group stops before the
// relay's, which stops before the connection closes; a failing stage is
// reported under its name and the stages after it still run, within the
// timeout even though the service's context is already done.
func TestShutdownRunsStagesInOrder(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	var order []string
	record := func(name string) func(context.Context) error {
		return func(ctx context.Context) error {
			<-ctx.Done()
			order = append(order, name) // the groups stop one after the other
			return nil
		}
	}
	parts := lifecycle.NewGroup(ctx)
	parts.Go("consumer", record("consumer"))
	background := lifecycle.NewGroup(context.WithoutCancel(ctx))
	background.Go("relay", record("relay"))
	cancel() // SIGTERM

	boom := errors.New("boom")
	var logs bytes.Buffer
	var deadlineLeft bool
	err := lifecycle.Shutdown(ctx, slog.New(slog.NewTextHandler(&logs, nil)), time.Minute,
		parts.Stage("consumers"),
		background.Stage("relay"),
		lifecycle.Stage{Name: "mailer", Stop: func(context.Context) error { return boom }},
		lifecycle.Stage{Name: "nats", Stop: func(ctx context.Context) error {
			_, deadlineLeft = ctx.Deadline()
			order = append(order, "nats")
			return ctx.Err()
		}})
	if !errors.Is(err, boom) || err.Error() != "stop mailer: boom" {
		t.Errorf("Shutdown = %v, want only the mailer's failure, named", err)
	}
	if want := []string{"consumer", "relay", "nats"}; !slices.Equal(order, want) {
		t.Errorf("stopped %v, want %v", order, want)
	}
	if !deadlineLeft {
		t.Error("the last stage ran without the shutdown deadline")
	}
	if out := logs.String(); !strings.Contains(out, "stopped relay") || strings.Contains(out, "msg=stopped\n") {
		t.Errorf("log = %q, want each stopped stage and no final \"stopped\" after a failure", out)
	}
}

// TestShutdownGivesUpAtItsTimeout: a part that ignores its context makes
// its stage fail once the timeout has passed, naming the part, and the
// later stages run.
func TestShutdownGivesUpAtItsTimeout(t *testing.T) {
	t.Parallel()
	parts := lifecycle.NewGroup(t.Context())
	stuck := make(chan struct{})
	t.Cleanup(func() { close(stuck) })
	parts.Go("stuck handler", func(context.Context) error { <-stuck; return nil })
	ran := false
	err := lifecycle.Shutdown(t.Context(), slog.New(slog.DiscardHandler), 50*time.Millisecond,
		parts.Stage("consumers"),
		lifecycle.Stage{Name: "nats", Stop: func(context.Context) error { ran = true; return nil }})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "stuck handler") {
		t.Errorf("Shutdown = %v, want the deadline, naming the stuck part", err)
	}
	if !ran {
		t.Error("the stage after the stuck one did not run")
	}
}
