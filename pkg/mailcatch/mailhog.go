package mailcatch

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// MailHog reads a MailHog mail catcher through its API: /api/v2 to list,
// /api/v1 to delete.
type MailHog struct {
	base     string
	hc       *http.Client
	pageSize int
}

// NewMailHog returns a client for the MailHog at baseURL (such as
// "http://127.0.0.1:8025"); hc nil means a client with a 30s timeout.
func NewMailHog(baseURL string, hc *http.Client) *MailHog {
	// MailHog caps a page at 250 messages.
	return &MailHog{base: strings.TrimRight(baseURL, "/"), hc: orDefault(hc), pageSize: 250}
}

// Name returns "mailhog".
func (m *MailHog) Name() string { return "mailhog" }

// mailhogMessage is the part of MailHog's data.Message that is read.
type mailhogMessage struct {
	ID      string
	Created time.Time
	Content struct {
		Headers map[string][]string
		Body    string
	}
	Raw *struct {
		From string
		To   []string
		Data string
	}
}

// Messages pages through GET /api/v2/messages, which holds each message
// whole, and decodes their bodies (quoted-printable, base64, multipart).
// It returns the messages oldest first, or an error when a request fails
// or a message cannot be decoded.
func (m *MailHog) Messages(ctx context.Context) ([]Message, error) {
	var (
		listed []dated
		seen   = map[string]bool{}
	)
	for start := 0; ; {
		var page struct {
			Total int              `json:"total"`
			Items []mailhogMessage `json:"items"`
		}
		u := fmt.Sprintf("%s/api/v2/messages?start=%d&limit=%d", m.base, start, m.pageSize)
		if err := getJSON(ctx, m.hc, u, &page); err != nil {
			return nil, fmt.Errorf("mailhog: list messages: %w", err)
		}
		for _, item := range page.Items {
			if seen[item.ID] {
				continue
			}
			seen[item.ID] = true
			msg, err := item.message()
			if err != nil {
				return nil, fmt.Errorf("mailhog: message %s: %w", item.ID, err)
			}
			listed = append(listed, dated{msg: msg, created: item.Created})
		}
		start += len(page.Items)
		if len(page.Items) == 0 || start >= page.Total {
			break
		}
	}
	return oldestFirst(listed), nil
}

func (item mailhogMessage) message() (Message, error) {
	header, body := item.source()
	text, html, err := bodies(header, strings.NewReader(body))
	if err != nil {
		return Message{}, err
	}
	subject := header.Get("Subject")
	if decoded, err := new(mime.WordDecoder).DecodeHeader(subject); err == nil {
		subject = decoded
	}
	msg := Message{
		ID:        item.ID,
		MessageID: trimMessageID(header.Get("Message-Id")),
		Subject:   subject,
		Text:      text,
		HTML:      html,
		To:        []string{},
		Headers:   header,
	}
	if from, err := mail.ParseAddress(header.Get("From")); err == nil {
		msg.From = from.Address
	} else if item.Raw != nil {
		msg.From = item.Raw.From
	}
	if to := header.Get("To"); to != "" {
		if list, err := mail.ParseAddressList(to); err == nil {
			for _, a := range list {
				msg.To = append(msg.To, a.Address)
			}
		} else if item.Raw != nil {
			msg.To = append(msg.To, item.Raw.To...)
		}
	}
	return msg, nil
}

// source returns the message's headers and transfer-encoded body. MailHog's
// own header split (Content.Headers) drops a header whose value starts on a
// folded line, which is how go-mail writes a long Message-ID or Subject
// ("Message-ID:\r\n <...>"), and glues it onto the previous header; so the
// raw SMTP data is parsed when MailHog kept it, adding the headers MailHog
// set itself (Received, Return-Path). Content is the fallback.
func (item mailhogMessage) source() (textproto.MIMEHeader, string) {
	content := textproto.MIMEHeader(canonicalHeaders(item.Content.Headers))
	if item.Raw == nil || item.Raw.Data == "" {
		return content, item.Content.Body
	}
	parsed, err := mail.ReadMessage(strings.NewReader(item.Raw.Data))
	if err != nil {
		return content, item.Content.Body
	}
	body, err := io.ReadAll(parsed.Body)
	if err != nil {
		return content, item.Content.Body
	}
	header := textproto.MIMEHeader(parsed.Header)
	for k, vs := range content {
		if _, ok := header[k]; !ok {
			header[k] = vs
		}
	}
	return header, string(body)
}

// DeleteAll deletes every message (DELETE /api/v1/messages).
func (m *MailHog) DeleteAll(ctx context.Context) error {
	if err := do(ctx, m.hc, http.MethodDelete, m.base+"/api/v1/messages", nil); err != nil {
		return fmt.Errorf("mailhog: delete all messages: %w", err)
	}
	return nil
}
