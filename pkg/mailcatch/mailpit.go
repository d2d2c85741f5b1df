package mailcatch

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Mailpit reads a Mailpit mail catcher through its REST API (/api/v1).
type Mailpit struct {
	base     string
	hc       *http.Client
	pageSize int
}

// NewMailpit returns a client for the Mailpit at baseURL (such as
// "http://127.0.0.1:8025"); hc nil means a client with a 30s timeout.
func NewMailpit(baseURL string, hc *http.Client) *Mailpit {
	return &Mailpit{base: strings.TrimRight(baseURL, "/"), hc: orDefault(hc), pageSize: 250}
}

// Name returns "mailpit".
func (m *Mailpit) Name() string { return "mailpit" }

type mailpitAddress struct{ Name, Address string }

// Messages lists every message (paging through GET /api/v1/messages),
// then reads each one's bodies (GET /api/v1/message/{ID}) and headers
// (GET /api/v1/message/{ID}/headers), eight messages at a time. Reading a
// message marks it read in Mailpit. A message deleted while it runs is left
// out. It returns the messages oldest first, or a failed request's error.
func (m *Mailpit) Messages(ctx context.Context) ([]Message, error) {
	type summary struct {
		ID      string
		Created time.Time
	}
	var (
		summaries []summary
		seen      = map[string]bool{}
	)
	for start := 0; ; {
		var page struct {
			MessagesCount int       `json:"messages_count"`
			Messages      []summary `json:"messages"`
		}
		u := fmt.Sprintf("%s/api/v1/messages?start=%d&limit=%d", m.base, start, m.pageSize)
		if err := getJSON(ctx, m.hc, u, &page); err != nil {
			return nil, fmt.Errorf("mailpit: list messages: %w", err)
		}
		for _, s := range page.Messages {
			// New mail shifts the newest-first pages: skip what we saw.
			if !seen[s.ID] {
				seen[s.ID] = true
				summaries = append(summaries, s)
			}
		}
		start += len(page.Messages)
		if len(page.Messages) == 0 || start >= page.MessagesCount {
			break
		}
	}
	// Two requests per message: run a few at once.
	var (
		msgs = make([]Message, len(summaries))
		errs = make([]error, len(summaries))
		sem  = make(chan struct{}, 8)
		wg   sync.WaitGroup
	)
	for i, s := range summaries {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			msgs[i], errs[i] = m.message(ctx, s.ID)
		})
	}
	wg.Wait()
	listed := make([]dated, 0, len(summaries))
	for i, s := range summaries {
		if isNotFound(errs[i]) {
			continue
		}
		if errs[i] != nil {
			return nil, errs[i]
		}
		listed = append(listed, dated{msg: msgs[i], created: s.Created})
	}
	return oldestFirst(listed), nil
}

func (m *Mailpit) message(ctx context.Context, id string) (Message, error) {
	var full struct {
		ID, MessageID, Subject, Text, HTML string
		From                               *mailpitAddress
		To                                 []mailpitAddress
	}
	base := m.base + "/api/v1/message/" + url.PathEscape(id)
	if err := getJSON(ctx, m.hc, base, &full); err != nil {
		return Message{}, fmt.Errorf("mailpit: get message %s: %w", id, err)
	}
	var headers map[string][]string
	if err := getJSON(ctx, m.hc, base+"/headers", &headers); err != nil {
		return Message{}, fmt.Errorf("mailpit: get headers of message %s: %w", id, err)
	}
	msg := Message{
		ID:        full.ID,
		MessageID: trimMessageID(full.MessageID),
		Subject:   full.Subject,
		Text:      crlfToLF(full.Text),
		HTML:      crlfToLF(full.HTML),
		To:        make([]string, 0, len(full.To)),
		Headers:   canonicalHeaders(headers),
	}
	if full.From != nil {
		msg.From = full.From.Address
	}
	for _, a := range full.To {
		msg.To = append(msg.To, a.Address)
	}
	return msg, nil
}

// DeleteAll deletes every message (DELETE /api/v1/messages without IDs).
func (m *Mailpit) DeleteAll(ctx context.Context) error {
	if err := do(ctx, m.hc, http.MethodDelete, m.base+"/api/v1/messages", nil); err != nil {
		return fmt.Errorf("mailpit: delete all messages: %w", err)
	}
	return nil
}
