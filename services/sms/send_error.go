package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// sendError is a failed Send. Its text carries no full phone number, so it
// may be logged, stored and copied into a DLQ header.
type sendError struct {
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
func (e *sendError) Error() string { return e.Text }

// Unwrap returns the underlying error, if any, which may carry a number.
func (e *sendError) Unwrap() error { return e.err }

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
	return &sendError{Status: resp.StatusCode, Text: fmt.Sprintf("%s: probe answered %s", provider, resp.Status)}
}

// classify turns the error of a request to provider that got no answer
// (connection refused or reset, timeout) into a sendError: transient, as
// the provider is unavailable. An answer is classified by its status
// instead (isPermanentStatus). The request URL, which may carry a secret,
// is left out.
func classify(provider string, err error) *sendError {
	cause, what := err, "no answer"
	if ue, ok := errors.AsType[*url.Error](err); ok {
		cause = ue.Err
		if ue.Timeout() {
			what = "no answer in time"
		}
	}
	return &sendError{Text: redactPhones(fmt.Sprintf("%s: %s: %v", provider, what, cause)), err: err}
}
