package stack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// JaegerConfig configures a Jaeger process (all-in-one: an OTLP/HTTP
// receiver, memory storage, the UI and query API), for `make run`.
type JaegerConfig struct {
	// OTLPPort (OTLP over HTTP), UIPort (UI and HTTP query API) and
	// GRPCPort (gRPC query API) bind 127.0.0.1; 0 picks a free one.
	OTLPPort, UIPort, GRPCPort int
	// Output, when set, receives Jaeger's log lines.
	Output io.Writer
	// Logger reports progress; nil discards it.
	Logger *slog.Logger
}

// Jaeger is a Jaeger process started by StartJaeger. Its traces live in
// memory and end with it.
type Jaeger struct {
	cfg  JaegerConfig
	dir  string
	proc *Process
}

// jaegerConfig is Jaeger v2's configuration: the all-in-one pipeline with
// only what `make run` needs, every server on 127.0.0.1 (the all-in-one
// default listens on every interface for the query API), no metrics port,
// and no tracing of the query service itself (its gRPC client would dial
// an OTLP collector on localhost:4317).
const jaegerConfig = `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: memstore
    enable_tracing: false
    http:
      endpoint: 127.0.0.1:%d
    grpc:
      endpoint: 127.0.0.1:%d
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
processors:
  batch:
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`

// StartJaeger starts Jaeger (the pinned tool "jaeger", built on first use:
// minutes) on 127.0.0.1 and returns once its UI answers. Ports it picks
// are picked again when another process takes one before Jaeger binds it
// (startOnFreePorts).
func StartJaeger(ctx context.Context, cfg JaegerConfig) (*Jaeger, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	bin, err := Tool(ctx, "jaeger")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "orderbus-jaeger-")
	if err != nil {
		return nil, fmt.Errorf("jaeger: %w", err)
	}
	j := &Jaeger{cfg: cfg, dir: dir}
	err = startOnFreePorts([]*int{&j.cfg.OTLPPort, &j.cfg.UIPort, &j.cfg.GRPCPort}, func() error {
		return j.start(ctx, bin)
	})
	if err != nil {
		j.removeDir()
		return nil, err
	}
	cfg.Logger.Info("jaeger ready", "ui", j.UIURL(), "otlp", j.OTLPEndpoint())
	return j, nil
}

// start writes j's configuration for its ports, starts bin with it and
// waits until the UI answers; a process that fails is stopped.
func (j *Jaeger) start(ctx context.Context, bin string) error {
	file := filepath.Join(j.dir, "jaeger.yaml")
	if err := os.WriteFile(file, fmt.Appendf(nil, jaegerConfig, j.cfg.UIPort, j.cfg.GRPCPort, j.cfg.OTLPPort), 0o644); err != nil {
		return fmt.Errorf("jaeger: %w", err)
	}
	proc, err := StartProcess(ctx, ProcessConfig{Name: "jaeger", Path: bin, Args: []string{"--config", file}, Output: j.cfg.Output})
	if err != nil {
		return fmt.Errorf("jaeger: %w", err)
	}
	if err := proc.waitReady(ctx, 30*time.Second, func(ctx context.Context) error {
		return httpOK(ctx, j.UIURL()+"/api/services")
	}); err != nil {
		_ = proc.Stop(context.WithoutCancel(ctx))
		return fmt.Errorf("jaeger: %w", err)
	}
	j.proc = proc
	return nil
}

// OTLPEndpoint returns the base URL of the OTLP/HTTP receiver, for
// OTEL_EXPORTER_OTLP_ENDPOINT.
func (j *Jaeger) OTLPEndpoint() string { return fmt.Sprintf("http://127.0.0.1:%d", j.cfg.OTLPPort) }

// UIURL returns the base URL of the UI and of the HTTP query API
// (/api/services, /api/traces?service=order). The Go module ships no UI
// bundle, so the page there is a placeholder; the API is complete.
func (j *Jaeger) UIURL() string { return fmt.Sprintf("http://127.0.0.1:%d", j.cfg.UIPort) }

// Process returns the Jaeger process, for its log.
func (j *Jaeger) Process() *Process { return j.proc }

// Close stops Jaeger and removes its configuration folder.
func (j *Jaeger) Close(ctx context.Context) error {
	err := j.proc.Stop(ctx)
	j.removeDir()
	if err != nil {
		return fmt.Errorf("jaeger: %w", err)
	}
	return nil
}

func (j *Jaeger) removeDir() { _ = os.RemoveAll(j.dir) }
