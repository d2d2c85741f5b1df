package chaos

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/orderbus/orderbus/e2e/launcher"
)

// TestShortSchedule is make test's chaos run: 1,500 orders with every
// fault kind at least once, checked by the same checker as make chaos.
// Any finding fails it.
func TestShortSchedule(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	bins, err := launcher.Build(ctx, t.TempDir(), launcher.DefaultServices()...)
	if err != nil {
		t.Fatal(err)
	}
	opts := ShortOptions()
	opts.Binaries = bins
	opts.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	res, err := Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res.Print(&out)
	t.Logf("\n%s", out.String())
	if !res.OK() {
		t.Errorf("the chaos run failed; process logs:\n%s", res.Logs)
	}
	for _, k := range Kinds() {
		if res.Required[k] < 1 {
			t.Errorf("fault kind %s not required by the short schedule", k)
		}
	}
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}
