package main

import (
	"context"
	"log/slog"
)

// logProvider is the default provider: it delivers nothing, and logs each
// message at info with the number masked, so the whole flow can be run
// and watched without an SMS gateway. Its message id is "log-<event id>".
type logProvider struct {
	logger *slog.Logger
}

// Name returns "log".
func (p *logProvider) Name() string { return providerLog }

// Send logs msg and returns its id; it never fails.
func (p *logProvider) Send(_ context.Context, msg textMessage) (string, error) {
	id := "log-" + msg.EventID
	p.logger.Info("sms logged, not delivered (SMS_PROVIDER=log)",
		"to", maskPhone(msg.To), "body", msg.Body, "order_id", msg.OrderID, "event_id", msg.EventID,
		"provider_id", id)
	return id, nil
}

// Probe returns nil: the log provider is always there.
func (p *logProvider) Probe(context.Context) error { return nil }
