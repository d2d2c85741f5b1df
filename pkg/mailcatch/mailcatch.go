// Package mailcatch reads and clears the mails an SMTP mail catcher caught,
// so tests and tools can check what a service sent. Two catchers are
// supported: Mailpit (REST API /api/v1) and MailHog (API /api/v2).
package mailcatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"time"
)

// Message is a mail as a catcher saw it.
type Message struct {
	// ID is the catcher's own id for the message.
	ID string
	// MessageID is the Message-ID header without its angle brackets.
	MessageID string
	// From is the address (no display name) in the From header.
	From string
	// Subject is the decoded Subject header.
	Subject string
	// Text and HTML are the decoded text/plain and text/html bodies (the
	// first of each that is not an attachment), with \n line endings; ""
	// when the mail has no such part.
	Text, HTML string
	// To holds the addresses (no display names) in the To header; envelope
	// recipients such as Bcc are not included.
	To []string
	// Headers holds every header with canonical keys (as
	// textproto.CanonicalMIMEHeaderKey gives them, e.g. "Message-Id") and
	// undecoded values.
	Headers map[string][]string
}

// Header returns the first value of the header key, matched regardless of
// case, or "".
func (m Message) Header(key string) string {
	return textproto.MIMEHeader(m.Headers).Get(key)
}

// Client reads and clears a mail catcher. Mailpit and MailHog implement it.
type Client interface {
	// Messages returns every message the catcher holds, oldest first, with
	// full bodies and headers.
	Messages(ctx context.Context) ([]Message, error)
	// DeleteAll deletes every message the catcher holds.
	DeleteAll(ctx context.Context) error
	// Name returns the catcher's name, "mailpit" or "mailhog".
	Name() string
}

// New probes baseURL (such as "http://127.0.0.1:8025") and returns the
// client for the catcher that answers: Mailpit when GET /api/v1/info
// answers with its version, else MailHog when GET /api/v2/messages answers
// with a message list. It returns an error naming both failures when
// neither does. hc nil means a client with a 30s timeout.
func New(ctx context.Context, baseURL string, hc *http.Client) (Client, error) {
	base := strings.TrimRight(baseURL, "/")
	hc = orDefault(hc)
	var info struct{ Version string }
	errMailpit := getJSON(ctx, hc, base+"/api/v1/info", &info)
	if errMailpit == nil {
		if info.Version != "" {
			return NewMailpit(base, hc), nil
		}
		errMailpit = errors.New("/api/v1/info has no Version")
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("probe mail catcher at %s: %w", base, ctx.Err())
	}
	var list struct {
		Total *int `json:"total"`
	}
	errMailHog := getJSON(ctx, hc, base+"/api/v2/messages?limit=1", &list)
	if errMailHog == nil {
		if list.Total != nil {
			return NewMailHog(base, hc), nil
		}
		errMailHog = errors.New("/api/v2/messages has no total")
	}
	return nil, fmt.Errorf("probe mail catcher at %s: not Mailpit (%w) nor MailHog (%w)", base, errMailpit, errMailHog)
}

func orDefault(hc *http.Client) *http.Client {
	if hc == nil {
		return &http.Client{Timeout: 30 * time.Second}
	}
	return hc
}

// dated pairs a message with the time the catcher received it, to sort.
type dated struct {
	msg     Message
	created time.Time
}

// oldestFirst sorts messages listed newest first into oldest first; equal
// times keep the reverse of the listing order.
func oldestFirst(listed []dated) []Message {
	slices.Reverse(listed)
	slices.SortStableFunc(listed, func(a, b dated) int { return a.created.Compare(b.created) })
	out := make([]Message, len(listed))
	for i, d := range listed {
		out[i] = d.msg
	}
	return out
}

// canonicalHeaders copies h with canonical keys, merging keys that differ
// only in case.
func canonicalHeaders(h map[string][]string) map[string][]string {
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		out[ck] = append(out[ck], vs...)
	}
	return out
}

func trimMessageID(v string) string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(v), "<"), ">")
}

func crlfToLF(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

// getJSON GETs url and decodes a 200 JSON answer into out.
func getJSON(ctx context.Context, hc *http.Client, url string, out any) error {
	return do(ctx, hc, http.MethodGet, url, out)
}

// statusError is a non-2xx answer from a catcher.
type statusError struct {
	method, url string
	code        int
	body        string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: status %d: %s", e.method, e.url, e.code, e.body)
}

func isNotFound(err error) bool {
	se, ok := errors.AsType[*statusError](err)
	return ok && se.code == http.StatusNotFound
}

// do sends a bodiless request and decodes a 2xx JSON answer into out
// (nil: the answer is discarded).
func do(ctx context.Context, hc *http.Client, method, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
		return &statusError{method: method, url: url, code: resp.StatusCode, body: strings.TrimSpace(string(snippet))}
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, url, err)
	}
	return nil
}
