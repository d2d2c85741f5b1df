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
// A 2xx answer accepts the message; its id is the answer's "sid". An
// error answer is classified by Twilio's error code where the code says
// whose fault it is (see twilioPermanent and twilioTransient), else by the
// status table of isPermanentStatus; the error keeps the code. No answer
// in twilioTimeout is transient.
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
// *sendError values.
func (p *twilioProvider) Send(ctx context.Context, msg textMessage) (string, error) {
	endpoint := p.baseURL + "/2010-04-01/Accounts/" + url.PathEscape(p.sid) + "/Messages.json"
	form := url.Values{"To": {msg.To}, "From": {p.from}, "Body": {msg.Body}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", &sendError{Text: "twilio: build request: " + err.Error(), err: err}
	}
	req.SetBasicAuth(p.sid, p.token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)

	resp, err := p.hc.Do(req)
	if err != nil {
		return "", classify(providerTwilio, err)
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

// twilioError turns a non-2xx answer into a *sendError. Twilio answers
// errors with {"code": 21211, "message": "...", "more_info": "...",
// "status": 400}; a body of another shape is quoted instead.
func twilioError(resp *http.Response, body []byte) *sendError {
	e := &sendError{Status: resp.StatusCode}
	var te struct {
		Code    json.Number `json:"code"`
		Message string      `json:"message"`
	}
	if err := json.Unmarshal(body, &te); err == nil && te.Code != "" {
		if _, err := strconv.Atoi(te.Code.String()); err == nil {
			e.Code = te.Code.String()
		}
	}
	switch {
	case twilioPermanent[e.Code]:
		e.Permanent = true
	case twilioTransient[e.Code]:
		e.Permanent = false
	default:
		e.Permanent = isPermanentStatus(resp.StatusCode)
	}
	if e.Code != "" {
		e.Text = fmt.Sprintf("twilio: answered %s: error %s: %s", resp.Status, e.Code, snippet([]byte(te.Message)))
	} else {
		e.Text = fmt.Sprintf("twilio: answered %s: %s", resp.Status, snippet(body))
	}
	return e
}

// twilioPermanent holds the Twilio error codes that say the recipient or
// the message itself is wrong: sending it again fails the same way,
// whatever the HTTP status.
var twilioPermanent = map[string]bool{
	"21211": true, // invalid 'To' phone number
	"21214": true, // 'To' phone number cannot be reached
	"21217": true, // phone number does not appear to be valid
	"21265": true, // 'To' number cannot be a short code
	"21401": true, // invalid phone number
	"21407": true, // this phone number type does not support SMS
	"21421": true, // phone number is invalid
	"21602": true, // message body is required
	"21610": true, // the recipient has unsubscribed (replied STOP)
	"21612": true, // the 'To' number is not reachable via SMS
	"21614": true, // 'To' number is not a valid mobile number
	"21617": true, // the message body exceeds the 1600 character limit
}

// twilioTransient holds the Twilio error codes that say the sender's side
// is wrong or busy (the account, its credentials, its 'From' number, its
// permissions, its rate), though Twilio answers some of them with 400:
// fixing the configuration, or waiting, lets the message through.
var twilioTransient = map[string]bool{
	"20003": true, // authentication error
	"20404": true, // resource not found (a wrong account SID)
	"20429": true, // too many requests
	"21212": true, // invalid 'From' number
	"21408": true, // sending to this region is not enabled for the account
	"21603": true, // 'From' phone number is required
	"21606": true, // 'From' is not a message-capable number of the account
	"21611": true, // 'From' has too many queued messages
	"21659": true, // 'From' is not a Twilio phone number
}

// Probe fetches the account resource, GET
// <TWILIO_BASE_URL>/2010-04-01/Accounts/<TWILIO_ACCOUNT_SID>.json with the
// service's credentials, and passes on a 2xx answer: Twilio answers and
// takes the credentials. Anything else fails it.
func (p *twilioProvider) Probe(ctx context.Context) error {
	endpoint := p.baseURL + "/2010-04-01/Accounts/" + url.PathEscape(p.sid) + ".json"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return &sendError{Text: "twilio: build probe: " + err.Error(), err: err}
	}
	req.SetBasicAuth(p.sid, p.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := p.hc.Do(req)
	if err != nil {
		return classify(providerTwilio, err)
	}
	defer resp.Body.Close()
	body := readBody(resp)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := twilioError(resp, body)
		e.Permanent = false
		e.Text = "probe: " + e.Text
		return e
	}
	return nil
}
