package telemetry

import (
	"context"
	"log/slog"
	"net/url"
)

// Start is New for a service's run: it logs at info, when tracing is on,
// where the spans go (without any credentials in the URL). Stop the
// Telemetry it returns when the service ends.
func Start(ctx context.Context, getenv func(string) string, service string, logger *slog.Logger) (*Telemetry, error) {
	t, err := New(ctx, getenv, service)
	if err != nil {
		return nil, err
	}
	if t.Enabled() {
		logger.Info("tracing on", "otlp_traces_endpoint", redactURL(t.Endpoint()), "sampler", t.cfg.Sampler)
	}
	return t, nil
}

// Stop is Close on a context that ctx's cancellation (SIGTERM) does not
// end, logging a failure at warn: the last spans of a shutdown are
// flushed, within Close's bound.
func (t *Telemetry) Stop(ctx context.Context, logger *slog.Logger) {
	if err := t.Close(context.WithoutCancel(ctx)); err != nil {
		logger.Warn("flush traces on stop", "error", err)
	}
}

// redactURL drops the user info and query of u.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable)"
	}
	p.User, p.RawQuery = nil, ""
	return p.String()
}
