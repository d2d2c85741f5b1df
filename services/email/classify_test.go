package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/orderbus/orderbus/pkg/servicetest"
	"github.com/orderbus/orderbus/pkg/stack"
)

// TestRefusesMail is the table of causes for a failed send (see classify).
func TestRefusesMail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		reason    gomail.SendErrReason
		code      int
		temporary bool
		want      bool
	}{
		{name: "550 to RCPT TO: no such user", reason: gomail.ErrSMTPRcptTo, code: 550, want: true},
		{name: "553 to RCPT TO: bad address", reason: gomail.ErrSMTPRcptTo, code: 553, want: true},
		{name: "552 to DATA end: too big", reason: gomail.ErrSMTPDataClose, code: 552, want: true},
		{name: "554 to DATA: refused content", reason: gomail.ErrSMTPData, code: 554, want: true},
		{name: "no recipients", reason: gomail.ErrGetRcpts, want: true},
		{name: "451 to RCPT TO: greylisted", reason: gomail.ErrSMTPRcptTo, code: 451, temporary: true},
		{name: "421 to RCPT TO: closing", reason: gomail.ErrSMTPRcptTo, code: 421, temporary: true},
		{name: "452 to DATA end: storage", reason: gomail.ErrSMTPDataClose, code: 452, temporary: true},
		{name: "530 to RCPT TO: login required", reason: gomail.ErrSMTPRcptTo, code: 530},
		{name: "535 to DATA: credentials", reason: gomail.ErrSMTPData, code: 535},
		{name: "538 to RCPT TO: encryption required", reason: gomail.ErrSMTPRcptTo, code: 538},
		{name: "550 to MAIL FROM: sender refused", reason: gomail.ErrSMTPMailFrom, code: 550},
		{name: "553 to MAIL FROM: sender not allowed", reason: gomail.ErrSMTPMailFrom, code: 553},
		{name: "dropped during RCPT TO: no reply", reason: gomail.ErrSMTPRcptTo, code: 0},
		{name: "writing the content failed", reason: gomail.ErrWriteContent, code: 0},
		{name: "connection check failed", reason: gomail.ErrConnCheck, code: 0},
		{name: "RSET refused", reason: gomail.ErrSMTPReset, code: 554},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := refusesMail(tt.reason, tt.code, tt.temporary); got != tt.want {
				t.Errorf("refusesMail(%s, %d) = %v, want %v", tt.reason, tt.code, got, tt.want)
			}
		})
	}
}

// TestDialErrorsAreTransient: what goes wrong before a mail transaction
// (the greeting, EHLO, STARTTLS, AUTH) is never the mail's fault. The
// SMTP client reports a server's refusal there as a *textproto.Error.
func TestDialErrorsAreTransient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		err      error
		wantCode int
	}{
		{name: "535 authentication failed", err: &textproto.Error{Code: 535, Msg: "5.7.8 Authentication credentials invalid"}, wantCode: 535},
		{name: "530 authentication required", err: &textproto.Error{Code: 530, Msg: "5.7.0 Authentication required"}, wantCode: 530},
		{name: "534 mechanism too weak", err: &textproto.Error{Code: 534, Msg: "5.7.9 Authentication mechanism is too weak"}, wantCode: 534},
		{name: "454 temporary authentication failure", err: &textproto.Error{Code: 454, Msg: "4.7.0 Temporary authentication failure"}, wantCode: 454},
		{name: "554 greeting refused", err: &textproto.Error{Code: 554, Msg: "no SMTP service here"}, wantCode: 554},
		{name: "wrapped", err: fmt.Errorf("auth: %w", &textproto.Error{Code: 535, Msg: "bad ada@example.com"}), wantCode: 535},
		{name: "no server reply", err: errors.New("server does not support SMTP AUTH")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := dialError(tt.err)
			if d.Permanent || d.Code != tt.wantCode {
				t.Errorf("dialError(%v) = {Permanent: %v, Code: %d}, want a transient error with code %d",
					tt.err, d.Permanent, d.Code, tt.wantCode)
			}
			if c := classify(tt.err); c.Permanent {
				t.Errorf("classify(%v) is permanent", tt.err)
			}
		})
	}
	if d := dialError(fmt.Errorf("auth: %w", &textproto.Error{Code: 535, Msg: "bad ada@example.com"})); d.Error() == "" ||
		strings.Contains(d.Error(), "ada@example.com") {
		t.Errorf("dialError text %q shows the address", d.Error())
	}
}

// TestMailerClassifiesServerAnswers sends through a real Mailpit whose
// chaos API answers each stage with the code under test.
func TestMailerClassifiesServerAnswers(t *testing.T) {
	t.Parallel()
	mp := startMailpit(t)
	m := newTestMailer(t, mp)
	tests := []struct {
		name          string
		trigger       string
		code          int
		wantPermanent bool
	}{
		{name: "sender refused 550", trigger: "Sender", code: 550},
		{name: "sender refused 451", trigger: "Sender", code: 451},
		{name: "recipient refused 550", trigger: "Recipient", code: 550, wantPermanent: true},
		{name: "recipient refused 553", trigger: "Recipient", code: 553, wantPermanent: true},
		{name: "recipient deferred 451", trigger: "Recipient", code: 451},
		{name: "recipient closing 421", trigger: "Recipient", code: 421},
		{name: "login required at recipient 530", trigger: "Recipient", code: 530},
	}
	// One Mailpit, one chaos setting at a time: the cases run in order.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setChaos(t, mp, map[string]chaosTrigger{tt.trigger: {tt.code, 100}})
			err := m.Send(t.Context(), testOutgoing())
			d, ok := errors.AsType[*sendError](err)
			if !ok {
				t.Fatalf("Send = %v (%T), want a *SendError", err, err)
			}
			if d.Permanent != tt.wantPermanent || d.Code != tt.code {
				t.Errorf("Send: %v: {Permanent: %v, Code: %d}, want {%v, %d}", d, d.Permanent, d.Code, tt.wantPermanent, tt.code)
			}
			if strings.Contains(d.Error(), "ada@example.com") {
				t.Errorf("error text %q shows the address", d.Error())
			}
		})
	}
	setChaos(t, mp, nil)
	if err := m.Send(t.Context(), testOutgoing()); err != nil {
		t.Errorf("Send with chaos off: %v", err)
	}
}

func TestMailerProbe(t *testing.T) {
	t.Parallel()
	mp := startMailpit(t)
	m := newTestMailer(t, mp)
	if err := m.Probe(t.Context()); err != nil {
		t.Fatalf("Probe of a running Mailpit: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := mp.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	err := m.Probe(t.Context())
	if d, ok := errors.AsType[*sendError](err); !ok || d.Permanent {
		t.Errorf("Probe of a stopped Mailpit = %v, want a transient *sendError", err)
	}
	err = m.Send(t.Context(), testOutgoing())
	if d, ok := errors.AsType[*sendError](err); !ok || d.Permanent {
		t.Errorf("Send to a stopped Mailpit = %v, want a transient *sendError", err)
	}
	if err := mp.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Probe(t.Context()); err != nil {
		t.Errorf("Probe after Mailpit came back: %v", err)
	}
}

// newTestMailer returns a smtpMailer of one connection for mp.
func newTestMailer(t *testing.T, mp *stack.Mailpit) *smtpMailer {
	t.Helper()
	cfg, err := loadConfig(servicetest.Getenv(map[string]string{
		"DATABASE_URL": "postgres://db/email", "SMTP_HOST": mp.SMTPHost(),
		"SMTP_PORT": strconv.Itoa(mp.SMTPPort()), "SMTP_TIMEOUT": "2s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	m, err := newMailer(cfg, 1, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	return m
}

func testOutgoing() outgoingMail {
	return outgoingMail{
		ID: "0195f0a8-1234-7000-8000-000000000001", To: mail.Address{Name: "Ada", Address: "ada@example.com"},
		Subject: "test", Text: "hello",
	}
}
