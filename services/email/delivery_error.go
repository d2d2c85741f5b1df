package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// DeliveryError is a failed Send. Its text carries no e-mail address, so it
// may be logged, stored and copied into a DLQ header.
type DeliveryError struct {
	// Permanent is true when the SMTP server refused this mail for good
	// (a 5xx reply to RCPT TO or DATA) or the mail cannot be built:
	// resending it would fail the same way. Everything else (no connection,
	// timeouts, 4xx replies, a refused sender or login, which are the
	// service's configuration rather than the mail's fault) is transient.
	Permanent bool
	// Code is the SMTP reply code, or 0 when the server did not answer.
	Code int
	// Text describes the failure, addresses redacted.
	Text string
	err  error
}

// Error returns the redacted description.
func (e *DeliveryError) Error() string { return e.Text }

// Unwrap returns the underlying error, which may contain addresses.
func (e *DeliveryError) Unwrap() error { return e.err }

// classify turns a go-mail send error into a DeliveryError.
func classify(err error) *DeliveryError {
	d := &DeliveryError{Text: "smtp: " + redactAddresses(err.Error()), err: err}
	if se, ok := errors.AsType[*gomail.SendError](err); ok {
		d.Code = se.ErrorCode()
		switch se.Reason {
		case gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose:
			// IsTemp alone is not enough: go-mail calls a dropped
			// connection (no reply at all) not temporary either.
			d.Permanent = !se.IsTemp() && d.Code >= 500 && d.Code <= 599
		}
	}
	return d
}

// redactAddresses replaces every word containing an @ (an e-mail address,
// or a Message-ID, which is harmless but indistinguishable) with
// [redacted]. SMTP replies often quote the recipient.
func redactAddresses(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	word := func(w string) {
		if strings.Contains(w, "@") {
			w = "[redacted]"
		}
		b.WriteString(w)
	}
	start := 0
	for i, r := range s {
		if strings.ContainsRune(" \t\r\n<>\"'(),;[]", r) {
			word(s[start:i])
			b.WriteRune(r)
			start = i + len(string(r))
		}
	}
	word(s[start:])
	return b.String()
}

// messageIDLocalPart returns id when it can stand left of the @ of a
// Message-ID as is (orderbus event ids are UUIDs), else a hash of it, so
// the Message-ID stays deterministic and well formed for any event id.
func messageIDLocalPart(id string) string {
	ok := id != "" && len(id) <= 128 && id[0] != '.' && id[len(id)-1] != '.' && !strings.Contains(id, "..")
	for _, r := range id {
		if !isAlnum(r) && !strings.ContainsRune(".-_+=", r) {
			ok = false
			break
		}
	}
	if ok {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "h." + hex.EncodeToString(sum[:16])
}
