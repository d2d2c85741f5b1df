package main

import (
	"errors"
	"net/textproto"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// sendError is a failed Send. Its text carries no e-mail address, so it
// may be logged, stored and copied into a DLQ header.
type sendError struct {
	// Permanent is true only when what is wrong is this mail or this
	// recipient: a 5xx reply to RCPT TO or DATA (other than one that asks
	// for authentication or encryption), or a mail that cannot be built.
	// Resending it would fail the same way. Everything else is transient,
	// and says that the SMTP server is unavailable to this service for now
	// (see classify): fixing the server or the configuration lets the
	// waiting mails through.
	Permanent bool
	// Code is the SMTP reply code, or 0 when the server did not answer.
	Code int
	// Text describes the failure, addresses redacted.
	Text string
	err  error
}

// Error returns the redacted description.
func (e *sendError) Error() string { return e.Text }

// Unwrap returns the underlying error, which may contain addresses.
func (e *sendError) Unwrap() error { return e.err }

// classify turns a go-mail error, from dialing (greeting, EHLO, STARTTLS,
// AUTH) or from sending, into a sendError. The table of causes:
//
//	cause                                              class
//	no connection, a dropped one, a timeout            transient
//	a refused greeting, EHLO or STARTTLS               transient
//	a refused login (AUTH: 454, 530, 534, 535, 538)    transient
//	a refused sender (any reply to MAIL FROM)          transient
//	a 4xx reply at any stage                           transient
//	530, 534, 535 or 538 to RCPT TO or DATA            transient
//	  (the server wants a login or encryption)
//	another 5xx reply to RCPT TO, DATA or its end      permanent
//	  (this recipient or this mail is refused)
//	a mail without recipients, or one not buildable    permanent
//
// The transient causes are the sending side's (the server, the network,
// the service's own SMTP settings), so they are all reported as the SMTP
// server being unavailable: the consumer pauses and probes it.
func classify(err error) *sendError {
	d := &sendError{Text: "smtp: " + redactAddresses(err.Error()), Code: replyCode(err), err: err}
	if se, ok := errors.AsType[*gomail.SendError](err); ok {
		d.Permanent = refusesMail(se.Reason, d.Code, se.IsTemp())
	}
	return d
}

// refusesMail reports whether a send failure at stage reason, with reply
// code (0 for none), refuses this mail for good (see classify).
func refusesMail(reason gomail.SendErrReason, code int, temporary bool) bool {
	switch reason {
	case gomail.ErrGetRcpts:
		return true
	case gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose:
		// go-mail calls a dropped connection (no reply at all) not
		// temporary either: only a real 5xx reply counts.
		if temporary || code < 500 || code > 599 {
			return false
		}
		return !asksForLogin(code)
	}
	return false
}

// asksForLogin reports whether a reply code says the server wants the
// client to authenticate or to encrypt first (RFC 4954): 530
// authentication required, 534 mechanism too weak, 535 credentials
// invalid, 538 encryption required, 454 temporary authentication failure.
func asksForLogin(code int) bool {
	switch code {
	case 454, 530, 534, 535, 538:
		return true
	}
	return false
}

// replyCode returns the SMTP reply code err carries, or 0: that of a
// go-mail SendError, else that of a *textproto.Error (how the SMTP client
// reports a refused greeting, EHLO, STARTTLS or AUTH).
func replyCode(err error) int {
	if se, ok := errors.AsType[*gomail.SendError](err); ok {
		if c := se.ErrorCode(); c != 0 {
			return c
		}
	}
	if te, ok := errors.AsType[*textproto.Error](err); ok {
		return te.Code
	}
	return 0
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
