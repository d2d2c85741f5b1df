package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// webhookProvider POSTs each message as JSON to SMS_WEBHOOK_URL, for an
// in-house gateway or any SMS service behind a small adapter:
//
//	POST <SMS_WEBHOOK_URL>
//	Content-Type: application/json
//	Idempotency-Key: <event id>
//
//	{"to": "+447700900961", "body": "...", "order_id": "...", "event_id": "..."}
//
// Any 2xx accepts the message; its id is the "id" string of a JSON answer
// such as {"id": "msg-123"}, else the event id. Other answers are
// classified by isPermanentStatus: 401, 403, 404, 408, 425, 429, 5xx,
// other unexpected answers and no answer in SMS_WEBHOOK_TIMEOUT are
// transient; any other 4xx refuses the message for good. The receiver should drop a
// request whose Idempotency-Key it has seen: the service resends a message
// when it crashed, or failed to commit, after the receiver accepted it.
type webhookProvider struct {
	url string
	hc  *http.Client
}

// Name returns "webhook".
func (p *webhookProvider) Name() string { return providerWebhook }

// Send POSTs msg and returns the receiver's id for it (see webhookProvider).
// Errors are *sendError values.
func (p *webhookProvider) Send(ctx context.Context, msg textMessage) (string, error) {
	payload, err := json.Marshal(struct {
		To      string `json:"to"`
		Body    string `json:"body"`
		OrderID string `json:"order_id"`
		EventID string `json:"event_id"`
	}{msg.To, msg.Body, msg.OrderID, msg.EventID})
	if err != nil {
		return "", &sendError{Permanent: true, Text: "webhook: encode request: " + err.Error(), err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(payload))
	if err != nil {
		// The URL was validated at start: this is the service's fault, not the message's.
		return "", &sendError{Text: "webhook: build request: " + err.Error(), err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Idempotency-Key", msg.EventID)
	req.Header.Set("User-Agent", userAgent)

	resp, err := p.hc.Do(req)
	if err != nil {
		return "", classify(providerWebhook, err)
	}
	defer resp.Body.Close()
	body := readBody(resp)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", &sendError{
			Permanent: isPermanentStatus(resp.StatusCode),
			Status:    resp.StatusCode,
			Text:      fmt.Sprintf("webhook: answered %s: %s", resp.Status, snippet(body)),
		}
	}
	var answer struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(body, &answer) == nil && answer.ID != "" {
		return answer.ID, nil
	}
	return msg.EventID, nil
}

// Probe sends HEAD <SMS_WEBHOOK_URL> and passes when the receiver answers
// with a status that would not make a Send transient (see probeStatus):
// any 2xx, 405 or another 4xx that only refuses a message. No answer, 401,
// 403, 404, 408, 425, 429 and 5xx fail it.
func (p *webhookProvider) Probe(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, p.url, nil)
	if err != nil {
		return &sendError{Text: "webhook: build probe: " + err.Error(), err: err}
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := p.hc.Do(req)
	if err != nil {
		return classify(providerWebhook, err)
	}
	defer resp.Body.Close()
	readBody(resp)
	return probeStatus(providerWebhook, resp)
}
