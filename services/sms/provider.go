package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// SMS is one text message to send.
type SMS struct {
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

// Provider sends SMS. There are three: logProvider (the default, which
// only logs), webhookProvider (a JSON POST to any HTTP endpoint) and
// twilioProvider (the Twilio Messages REST API). Implementations are safe
// for concurrent use.
type Provider interface {
	// Name is the provider's SMS_PROVIDER value, stored with every message
	// and used as the provider label of sms_messages_total.
	Name() string
	// Send hands msg to the provider and returns the provider's id for it.
	// Errors are *SendError values whose text carries no full phone
	// number; SendError.Permanent tells whether retrying can help.
	Send(ctx context.Context, msg SMS) (string, error)
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
func newProvider(cfg Config, hc *http.Client, logger *slog.Logger) (Provider, error) {
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

// SendError is a failed Send. Its text carries no full phone number, so it
// may be logged, stored and copied into a DLQ header.
type SendError struct {
	// Permanent is true when the provider refused this message for good
	// because of the message or its recipient (see isPermanentStatus, and
	// twilioPermanent for Twilio's error codes): sending it again would
	// fail the same way. Everything else is transient and says that the
	// provider is unavailable to this service for now.
	Permanent bool
	// Status is the provider's HTTP status, or 0 when it did not answer.
	Status int
	// Code is the provider's own error code (Twilio's "code"), or "".
	Code string
	// Text describes the failure, phone numbers masked.
	Text string
	err  error
}

// Error returns the redacted description.
func (e *SendError) Error() string { return e.Text }

// Unwrap returns the underlying error, if any, which may carry a number.
func (e *SendError) Unwrap() error { return e.err }

// isPermanentStatus reports whether a provider's HTTP status refuses the
// message for good. The table of causes:
//
//	status                                   class
//	no answer, timeout, connection refused   transient
//	401, 403 (credentials, permissions)      transient: the sender's configuration
//	404 (wrong endpoint or account)          transient: the sender's configuration
//	408, 425, 429 (timeout, too early, busy) transient
//	5xx, 1xx, 3xx and anything unexpected    transient
//	any other 4xx (400, 409, 410, 413,       permanent: this message or
//	  415, 422...)                           recipient is wrong
//
// A transient answer is retried for as long as it takes: fixing the
// provider or the service's settings lets the waiting messages through.
func isPermanentStatus(status int) bool {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound,
		http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests:
		return false
	}
	return status >= 400 && status <= 499
}

// probeStatus turns a provider's answer to a probe into Probe's result:
// nil unless the status is one that makes a Send transient (see
// isPermanentStatus; 405 Method Not Allowed, for one, shows the endpoint
// is there).
func probeStatus(provider string, resp *http.Response) error {
	ok := resp.StatusCode >= 200 && resp.StatusCode <= 299 || isPermanentStatus(resp.StatusCode)
	if ok {
		return nil
	}
	return &SendError{Status: resp.StatusCode, Text: fmt.Sprintf("%s: probe answered %s", provider, resp.Status)}
}

// transportError describes a request that got no answer (connection
// refused or reset, timeout): transient. The request URL, which may carry
// a secret, is left out.
func transportError(provider string, err error) *SendError {
	cause, what := err, "no answer"
	if ue, ok := errors.AsType[*url.Error](err); ok {
		cause = ue.Err
		if ue.Timeout() {
			what = "no answer in time"
		}
	}
	return &SendError{Text: redactPhones(fmt.Sprintf("%s: %s: %v", provider, what, cause)), err: err}
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
