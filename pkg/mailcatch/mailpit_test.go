package mailcatch

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/stack"
)

// startMailpit starts a real Mailpit process for the test, failing the
// test if it cannot.
func startMailpit(t *testing.T) *stack.Mailpit {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	mp, err := stack.StartMailpit(ctx, stack.MailpitConfig{})
	if err != nil {
		t.Fatalf("start mailpit: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := mp.Close(ctx); err != nil {
			t.Errorf("close mailpit: %v", err)
		}
	})
	return mp
}

type outgoing struct {
	from       mail.Address
	to         []mail.Address
	bcc        []string // envelope only
	subject    string
	messageID  string
	text, html string // html "" = a text/plain mail
}

// render writes the mail as a mail service would: UTF-8, quoted-printable,
// multipart/alternative when it has an HTML body.
func (o outgoing) render(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	to := make([]string, len(o.to))
	for i, a := range o.to {
		to[i] = a.String()
	}
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s>\r\nDate: %s\r\nMIME-Version: 1.0\r\n",
		o.from.String(), strings.Join(to, ", "), mime.QEncoding.Encode("utf-8", o.subject), o.messageID, time.Now().Format(time.RFC1123Z))
	writeQP := func(w interface{ Write([]byte) (int, error) }, s string) {
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
		if err := qp.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if o.html == "" {
		b.WriteString("Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
		writeQP(&b, o.text)
		return b.Bytes()
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fmt.Fprintf(&b, "Content-Type: multipart/alternative; boundary=%s\r\n\r\n", mw.Boundary())
	for _, p := range []struct{ typ, content string }{{"text/plain", o.text}, {"text/html", o.html}} {
		part, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {p.typ + "; charset=UTF-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			t.Fatal(err)
		}
		writeQP(part, p.content)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	b.Write(body.Bytes())
	return b.Bytes()
}

func (o outgoing) send(t *testing.T, mp *stack.Mailpit) {
	t.Helper()
	rcpts := []string{}
	for _, a := range o.to {
		rcpts = append(rcpts, a.Address)
	}
	rcpts = append(rcpts, o.bcc...)
	addr := net.JoinHostPort(mp.SMTPHost(), strconv.Itoa(mp.SMTPPort()))
	if err := smtp.SendMail(addr, nil, o.from.Address, rcpts, o.render(t)); err != nil {
		t.Fatalf("send %s: %v", o.messageID, err)
	}
}

// waitMessages polls c until it holds n messages or 10s pass.
func waitMessages(t *testing.T, c Client, n int) []Message {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := c.Messages(t.Context())
		if err == nil && len(got) == n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %d messages: have %d, last error %v", n, len(got), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestMailpit(t *testing.T) {
	t.Parallel()
	mp := startMailpit(t)
	c := NewMailpit(mp.APIURL(), nil)
	if c.Name() != "mailpit" {
		t.Errorf("Name = %q", c.Name())
	}
	orders := mail.Address{Name: "orderbus", Address: "orders@orderbus.example"}
	mails := []outgoing{
		{
			from: orders, to: []mail.Address{{Name: "Alice Müller", Address: "alice@example.com"}},
			subject: "Your order o-1 — receipt", messageID: "o-1.receipt@orderbus.example",
			text: "Hello Alice Müller,\n\nthank you for order o-1: 2 × SKU-COFFEE, total 42,50 €. This line is long enough that quoted-printable must wrap it.\n",
			html: "<p>Hello Alice Müller,</p>\n<p>thank you for order <b>o-1</b>: 2 × SKU-COFFEE, total 42,50&nbsp;€.</p>\n",
		},
		{
			from: orders, to: []mail.Address{{Address: "carol@example.net"}, {Name: "Dave", Address: "dave@example.net"}},
			bcc:     []string{"audit@orderbus.example"},
			subject: "Order o-2 — receipt", messageID: "o-2.receipt@orderbus.example",
			text: "Hi Carol and Dave,\nthanks for o-2.\n", html: "<p>Hi Carol and Dave, thanks for o-2.</p>",
		},
		{
			from: orders, to: []mail.Address{{Address: "bob@example.org"}},
			subject: "We are sorry: order o-3 was rejected", messageID: "o-3.apology@orderbus.example",
			text: "Hello,\nSKU-TEA is out of stock; a = sign stays.\n",
		},
	}
	for i, m := range mails {
		m.send(t, mp)
		// One at a time, so each has its own arrival time to sort by.
		waitMessages(t, c, i+1)
	}

	tests := []struct {
		name     string
		pageSize int
	}{
		{name: "one page", pageSize: 250},
		{name: "paged", pageSize: 2},
		{name: "page per message", pageSize: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewMailpit(mp.APIURL()+"/", nil)
			c.pageSize = tt.pageSize
			got, err := c.Messages(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(mails) {
				t.Fatalf("got %d messages, want %d", len(got), len(mails))
			}
			for i, want := range mails {
				g := got[i]
				wantTo := []string{}
				for _, a := range want.to {
					wantTo = append(wantTo, a.Address)
				}
				if g.ID == "" || g.MessageID != want.messageID || g.From != want.from.Address ||
					g.Subject != want.subject || !slices.Equal(g.To, wantTo) {
					t.Errorf("message %d = {ID %q MessageID %q From %q Subject %q To %q}, want {MessageID %q From %q Subject %q To %q}",
						i, g.ID, g.MessageID, g.From, g.Subject, g.To, want.messageID, want.from.Address, want.subject, wantTo)
				}
				if g.Text != want.text || g.HTML != want.html {
					t.Errorf("message %d bodies = %q, %q; want %q, %q", i, g.Text, g.HTML, want.text, want.html)
				}
				if g.Header("Message-ID") != "<"+want.messageID+">" || g.Header("mime-version") != "1.0" {
					t.Errorf("message %d headers = %v", i, g.Headers)
				}
				if _, ok := g.Headers["Content-Type"]; !ok {
					t.Errorf("message %d headers lack canonical Content-Type: %v", i, g.Headers)
				}
			}
		})
	}

	t.Run("delete all", func(t *testing.T) {
		if err := c.DeleteAll(t.Context()); err != nil {
			t.Fatal(err)
		}
		got, err := c.Messages(t.Context())
		if err != nil || len(got) != 0 {
			t.Fatalf("after DeleteAll: %d messages, err %v", len(got), err)
		}
	})
}
