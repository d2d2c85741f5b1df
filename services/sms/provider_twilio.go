package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// twilioProvider sends through the Twilio Messages REST API:
//
//	POST <TWILIO_BASE_URL>/2010-04-01/Accounts/<TWILIO_ACCOUNT_SID>/Messages.json
//	Authorization: Basic <TWILIO_ACCOUNT_SID:TWILIO_AUTH_TOKEN>
//	Content-Type: application/x-www-form-urlencoded
//
//	To=<E.164>&From=<TWILIO_FROM>&Body=<text>
//
// A 2xx answer accepts the message; its id is the answer's "sid". 429,
// 5xx, other unexpected answers and no answer in twilioTimeout are
// transient; any other 4xx refuses the message for good, and the error
// keeps Twilio's error code (such as 21211, invalid To number).
//
// Twilio's Messages API takes no idempotency key: when the service
// crashes, or fails to commit, after Twilio accepted a message, the
// redelivery sends it again. That is this provider's at-least-once edge.
type twilioProvider struct {
	baseURL, sid, token, from string
	hc                        *http.Client
}

// Name returns "twilio".
func (p *twilioProvider) Name() string { return providerTwilio }

// Send creates a Twilio Message for msg and returns its SID. Errors are
// *SendError values.
func (p *twilioProvider) Send(ctx context.Context, msg SMS) (string, error) {
	endpoint := p.baseURL + "/2010-04-01/Accounts/" + url.PathEscape(p.sid) + "/Messages.json"
	form := url.Values{"To": {msg.To}, "From": {p.from}, "Body": {msg.Body}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", &SendError{Text: "twilio: build request: " + err.Error(), err: err}
	}
	req.SetBasicAuth(p.sid, p.token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)

	resp, err := p.hc.Do(req)
	if err != nil {
		return "", transportError(providerTwilio, err)
	}
	defer resp.Body.Close()
	body := readBody(resp)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", twilioError(resp, body)
	}
	var created struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(body, &created); err != nil || created.SID == "" {
		// Accepted all the same: retrying would send a second message.
		return "", nil
	}
	return created.SID, nil
}

// twilioError turns a non-2xx answer into a *SendError. Twilio answers
// errors with {"code": 21211, "message": "...", "more_info": "...",
// "status": 400}; a body of another shape is quoted instead.
func twilioError(resp *http.Response, body []byte) *SendError {
	e := &SendError{Permanent: isPermanentStatus(resp.StatusCode), Status: resp.StatusCode}
	var te struct {
		Code    json.Number `json:"code"`
		Message string      `json:"message"`
	}
	if err := json.Unmarshal(body, &te); err == nil && te.Code != "" {
		if _, err := strconv.Atoi(te.Code.String()); err == nil {
			e.Code = te.Code.String()
		}
	}
	if e.Code != "" {
		e.Text = fmt.Sprintf("twilio: answered %s: error %s: %s", resp.Status, e.Code, snippet([]byte(te.Message)))
	} else {
		e.Text = fmt.Sprintf("twilio: answered %s: %s", resp.Status, snippet(body))
	}
	return e
}
