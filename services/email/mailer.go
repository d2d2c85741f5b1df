package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/orderbus/orderbus/pkg/telemetry"
)

// outgoingMail is one mail to send.
type outgoingMail struct {
	// ID makes the Message-ID, <ID@MAIL_DOMAIN>: the event id, so a resent
	// mail carries the same Message-ID and receivers can drop the copy.
	ID      string
	To      mail.Address
	Subject string
	Text    string
	HTML    string
	// Headers are extra header fields, such as X-Order-Id.
	Headers map[string]string
}

// smtpMailer sends mail over SMTP with go-mail through a small pool of
// connections, so a burst of events does not pay a TCP and EHLO handshake
// per mail. A connection is dialed on first use, reused for many mails and
// closed after any error, to be redialed by the next Send.
//
// One go-mail Client holds the settings (host, port, TLS policy, auth,
// timeout); the pooled connections are its *smtp.Client values, used with
// the Client's ...WithSMTPClient methods, which go-mail provides for
// concurrent senders. Keeping the *smtp.Client lets the smtpMailer always
// release a broken connection's socket, which Client.Close does not do when
// QUIT fails.
type smtpMailer struct {
	client  *gomail.Client
	from    string
	domain  string
	timeout time.Duration
	logger  *slog.Logger
	tracer  trace.Tracer         // a no-op one when tracing is off
	attrs   []attribute.KeyValue // of every SMTP span: the server
	// slots holds size connections, nil until dialed; taking a slot is the
	// right to send, so at most size mails are in flight.
	slots chan *pooledConn
}

type pooledConn struct {
	c *smtp.Client
}

// newMailer returns a smtpMailer for cfg with a pool of size connections. It
// dials nothing; each Send is a client span of tel's. It returns an error
// when the SMTP settings are invalid.
func newMailer(cfg Config, size int, logger *slog.Logger, tel *telemetry.Telemetry) (*smtpMailer, error) {
	policy, err := cfg.tlsPolicy()
	if err != nil {
		return nil, err
	}
	opts := []gomail.Option{
		gomail.WithPort(cfg.SMTPPort),
		gomail.WithTimeout(cfg.SMTPTimeout),
		gomail.WithTLSPolicy(policy), // not WithTLSPortPolicy: it would move SMTP_PORT 25 to 587
	}
	if cfg.SMTPUsername != "" {
		// Auto-discovery picks the strongest mechanism the server offers,
		// and never PLAIN or LOGIN over an unencrypted connection.
		opts = append(opts,
			gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.SMTPUsername),
			gomail.WithPassword(cfg.SMTPPassword))
	}
	client, err := gomail.NewClient(cfg.SMTPHost, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client: %w", err)
	}
	m := &smtpMailer{
		client:  client,
		from:    cfg.MailFrom,
		domain:  cfg.MailDomain,
		timeout: cfg.SMTPTimeout,
		logger:  logger,
		tracer:  tel.Tracer(),
		attrs: []attribute.KeyValue{
			attribute.String("server.address", cfg.SMTPHost), attribute.Int("server.port", cfg.SMTPPort),
		},
		slots: make(chan *pooledConn, size),
	}
	for range size {
		m.slots <- &pooledConn{}
	}
	return m, nil
}

// MessageID returns the Message-ID (without angle brackets) that Send gives
// a mail with id.
func (m *smtpMailer) MessageID(id string) string {
	return messageIDLocalPart(id) + "@" + m.domain
}

// Send sends out over a pooled connection, waiting for a free one until ctx
// ends. A pooled connection found dead before anything was sent is redialed
// once at once. Errors are *sendError values whose text carries no
// e-mail address; sendError.Permanent tells whether retrying can help.
// The send is an "smtp send" client span (waiting for a connection
// included) under the span in ctx, carrying the Message-ID, never an address.
func (m *smtpMailer) Send(ctx context.Context, out outgoingMail) (err error) {
	ctx, span := m.tracer.Start(ctx, "smtp send", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(append(m.attrs, attribute.String("email.message_id", m.MessageID(out.ID)))...))
	defer func() { telemetry.EndSpan(span, err) }()
	return m.send(ctx, out)
}

// send is Send without its span.
func (m *smtpMailer) send(ctx context.Context, out outgoingMail) error {
	msg, err := m.compose(out)
	if err != nil {
		return &sendError{Permanent: true, Text: redactAddresses(err.Error()), err: err}
	}
	var slot *pooledConn
	select {
	case slot = <-m.slots:
	case <-ctx.Done():
		return &sendError{Text: "wait for smtp connection: " + ctx.Err().Error(), err: ctx.Err()}
	}
	defer func() { m.slots <- slot }()

	for attempt := 1; ; attempt++ {
		fresh := slot.c == nil
		if fresh {
			c, err := m.client.DialToSMTPClientWithContext(ctx)
			if err != nil {
				return dialError(err)
			}
			slot.c = c
		}
		// The connection may have idled past its last deadline.
		err := slot.c.UpdateDeadline(m.timeout)
		if err == nil {
			if err = m.client.SendWithSMTPClient(slot.c, msg); err == nil {
				return nil
			}
		}
		m.discard(slot)
		if !fresh && attempt == 1 && connDead(err) {
			m.logger.Debug("pooled smtp connection is dead, redialing", "error", redactAddresses(err.Error()))
			continue
		}
		return classify(err)
	}
}

// Probe checks that the SMTP server takes mail from this service again:
// it dials it as Send does (greeting, EHLO, STARTTLS and AUTH as
// configured), says NOOP and QUIT, within ctx and SMTP_TIMEOUT. It returns
// nil when all of that succeeds, else a transient *sendError. It uses
// no pooled connection, so it does not wait for a busy pool.
func (m *smtpMailer) Probe(ctx context.Context) error {
	c, err := m.client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return dialError(err)
	}
	err = c.Noop()
	if qerr := c.Quit(); qerr != nil {
		_ = c.Close() // QUIT failed: the socket is still open
		err = errors.Join(err, qerr)
	}
	if err != nil {
		return &sendError{Text: "smtp probe: " + redactAddresses(err.Error()), Code: replyCode(err), err: err}
	}
	return nil
}

// dialError describes a failure to connect, greet, start TLS or log in:
// always transient (see classify).
func dialError(err error) *sendError {
	return &sendError{Text: "connect to smtp server: " + redactAddresses(err.Error()), Code: replyCode(err), err: err}
}

// connDead reports whether err says the connection was unusable before
// the mail transaction began, so nothing was sent and trying again on a new
// connection is safe.
func connDead(err error) bool {
	se, ok := errors.AsType[*gomail.SendError](err)
	return !ok || se.Reason == gomail.ErrConnCheck
}

// compose builds the go-mail message: From MAIL_FROM, To out.To,
// Message-ID <out.ID@MAIL_DOMAIN>, a text body with an HTML alternative.
func (m *smtpMailer) compose(out outgoingMail) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(m.from); err != nil {
		return nil, fmt.Errorf("from address: %w", err)
	}
	msg.ToMailAddress(&out.To)
	msg.Subject(out.Subject)
	msg.SetMessageIDWithValue(m.MessageID(out.ID))
	msg.SetDate()
	for k, v := range out.Headers {
		msg.SetGenHeader(gomail.Header(k), v)
	}
	msg.SetBodyString(gomail.TypeTextPlain, out.Text)
	if out.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, out.HTML)
	}
	return msg, nil
}

// discard closes slot's connection, if any, and empties the slot.
func (m *smtpMailer) discard(slot *pooledConn) {
	if slot.c == nil {
		return
	}
	_ = slot.c.UpdateDeadline(m.timeout)
	if err := slot.c.Quit(); err != nil {
		_ = slot.c.Close() // QUIT failed: the socket is still open
	}
	slot.c = nil
}

// Close waits for the mails in flight (until ctx ends) and closes every
// pooled connection. The smtpMailer stays usable: a later Send dials again.
// It returns ctx's error when it gave up waiting.
func (m *smtpMailer) Close(ctx context.Context) error {
	taken := make([]*pooledConn, 0, cap(m.slots))
	defer func() {
		for _, s := range taken {
			m.slots <- s
		}
	}()
	for range cap(m.slots) {
		select {
		case s := <-m.slots:
			m.discard(s)
			taken = append(taken, s)
		case <-ctx.Done():
			return fmt.Errorf("close smtp connections: %w", ctx.Err())
		}
	}
	return nil
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
