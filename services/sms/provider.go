package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// textMessage is one text message to send.
type textMessage struct {
	// To is the recipient's number in E.164 form.
	To string
	// Body is the text.
	Body string
	// OrderID is the order the message is about.
	OrderID string
	// EventID is the event that caused the message. Providers that support
	// it pass it as an idempotency key, so a resend after a crash between
	// the provider's accept and the service's commit can be dropped.
	EventID string
}

// smsProvider sends SMS. There are three: logProvider (the default, which
// only logs), webhookProvider (a JSON POST to any HTTP endpoint) and
// twilioProvider (the Twilio Messages REST API). Implementations are safe
// for concurrent use.
type smsProvider interface {
	// Name is the provider's SMS_PROVIDER value, stored with every message
	// and used as the provider label of sms_messages_total.
	Name() string
	// Send hands msg to the provider and returns the provider's id for it.
	// Errors are *sendError values whose text carries no full phone
	// number; sendError.Permanent tells whether retrying can help.
	Send(ctx context.Context, msg textMessage) (string, error)
	// Probe checks, without sending anything, that the provider answers
	// and accepts this service's requests again; it returns nil when Send
	// may be tried again. The sms consumer calls it while paused by
	// provider failures (natsjs.ConsumerConfig.Probes, as
	// dependencyProvider).
	Probe(ctx context.Context) error
}

// dependencyProvider names the SMS provider in natsjs.Unavailable errors
// and in the consumer's probes.
const dependencyProvider = "sms-provider"

// Provider names, the values of SMS_PROVIDER.
const (
	providerLog     = "log"
	providerWebhook = "webhook"
	providerTwilio  = "twilio"
)

// userAgent identifies the service to HTTP providers.
const userAgent = "orderbus-sms/1"

// newProvider returns the provider SMS_PROVIDER names, sending over hc;
// cfg must be valid (loadConfig checks each provider's settings). It
// returns an error for an unknown provider.
func newProvider(cfg Config, hc *http.Client, logger *slog.Logger) (smsProvider, error) {
	switch cfg.SMSProvider {
	case providerLog:
		return &logProvider{logger: logger}, nil
	case providerWebhook:
		return &webhookProvider{url: cfg.WebhookURL, hc: hc}, nil
	case providerTwilio:
		return &twilioProvider{
			baseURL: strings.TrimRight(cfg.TwilioBaseURL, "/"),
			sid:     cfg.TwilioAccountSID, token: cfg.TwilioAuthToken, from: cfg.TwilioFrom,
			hc: hc,
		}, nil
	}
	return nil, fmt.Errorf("SMS_PROVIDER %q: want log, webhook or twilio", cfg.SMSProvider)
}

// newHTTPClient returns the client the HTTP providers share: every request
// ends after timeout, up to conns connections per host are kept for reuse
// (one per concurrent handler), and redirects are not followed, since a
// redirected POST may lose its body or method.
func newHTTPClient(timeout time.Duration, conns int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conns
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// maxResponseBody bounds how much of a provider's answer is read.
const maxResponseBody = 64 << 10

// readBody reads at most maxResponseBody bytes of resp's body and drains
// the rest, so the connection can be reused.
func readBody(resp *http.Response) []byte {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))
	return body
}

// snippet returns the start of a response body on one line, phone numbers
// masked, for an error text.
func snippet(body []byte) string {
	s := []rune(strings.Join(strings.Fields(strings.ToValidUTF8(string(body), "?")), " "))
	if len(s) > 200 {
		s = append(s[:200], []rune("...")...)
	}
	return redactPhones(string(s))
}
