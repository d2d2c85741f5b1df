package lifecycle_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/lifecycle"
)

// untilDone is a part that runs until its context is done, then returns nil.
func untilDone(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func TestFirstFailureStopsTheOthers(t *testing.T) {
	t.Parallel()
	g := lifecycle.NewGroup(t.Context())
	boom := errors.New("boom")
	g.Go("consumer", untilDone)
	g.Go("consumer", untilDone)
	g.Go("http", func(context.Context) error { return boom })

	select {
	case <-g.Context().Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the group did not stop after a part failed")
	}
	err := g.Wait(t.Context())
	if !errors.Is(err, boom) || err.Error() != "http: boom" {
		t.Fatalf("Wait = %v, want only the failed part's error, named", err)
	}
}

func TestEveryFailureIsReported(t *testing.T) {
	t.Parallel()
	g := lifecycle.NewGroup(t.Context())
	first, second := errors.New("first"), errors.New("second")
	g.Go("a", func(context.Context) error { return first })
	g.Go("b", func(ctx context.Context) error { <-ctx.Done(); return second })
	err := g.Wait(t.Context())
	if !errors.Is(err, first) || !errors.Is(err, second) || !strings.Contains(err.Error(), "a: first") ||
		!strings.Contains(err.Error(), "b: second") {
		t.Fatalf("Wait = %v, want both errors, named", err)
	}
}

func TestStopAndParentCancelStopCleanly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		stop func(cancelParent context.CancelFunc, g *lifecycle.Group)
	}{
		{name: "parent canceled", stop: func(cancel context.CancelFunc, _ *lifecycle.Group) { cancel() }},
		{name: "Stop", stop: func(_ context.CancelFunc, g *lifecycle.Group) { g.Stop() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			parent, cancel := context.WithCancel(t.Context())
			defer cancel()
			g := lifecycle.NewGroup(parent)
			returned := make(chan struct{})
			g.Go("early", func(context.Context) error { close(returned); return nil })
			g.Go("consumer", untilDone)
			<-returned
			if g.Context().Err() != nil {
				t.Fatal("a part returning nil stopped the group")
			}
			tt.stop(cancel, g)
			if err := g.Wait(t.Context()); err != nil {
				t.Fatalf("Wait = %v, want nil", err)
			}
		})
	}
}

func TestWaitGivesUpAtItsDeadline(t *testing.T) {
	t.Parallel()
	g := lifecycle.NewGroup(context.WithoutCancel(t.Context()))
	release := make(chan struct{})
	defer close(release)
	g.Go("http", untilDone)
	g.Go("outbox relay", func(context.Context) error { <-release; return nil })
	g.Stop()

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := g.Wait(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "wait for outbox relay") ||
		strings.Contains(err.Error(), "http") {
		t.Fatalf("Wait = %v, want a deadline error naming only the part still running", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Wait took %s past a 50ms deadline", elapsed)
	}
}
