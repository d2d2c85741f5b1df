package main

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/servicetest"
)

// Twilio cannot run locally: these tests hold the provider to the
// Messages API contract with an httptest server that checks the exact
// request and replays Twilio's documented answers.

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "twilio-token"
	testFrom  = "+15005550006"
)

// twilioFake answers every request with status and body, and keeps the
// last request.
type twilioFake struct {
	*httptest.Server
	mu   sync.Mutex
	req  *http.Request
	form string
}

func startTwilioFake(t *testing.T, status int, body string) *twilioFake {
	t.Helper()
	f := &twilioFake{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.req, f.form = r.Clone(context.Background()), string(raw)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *twilioFake) last() (*http.Request, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.req, f.form
}

// newTestTwilio returns the provider loadConfig and newProvider make for
// the fake at baseURL.
func newTestTwilio(t *testing.T, baseURL string, timeout time.Duration) smsProvider {
	t.Helper()
	cfg, err := loadConfig(servicetest.Getenv(map[string]string{
		"DATABASE_URL": "postgres://db/sms", "SMS_PROVIDER": "twilio", "TWILIO_BASE_URL": baseURL + "/",
		"TWILIO_ACCOUNT_SID": testSID, "TWILIO_AUTH_TOKEN": testToken, "TWILIO_FROM": testFrom,
	}))
	if err != nil {
		t.Fatal(err)
	}
	p, err := newProvider(cfg, newHTTPClient(timeout, 1), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var testSMS = textMessage{
	To: "+447700900961", Body: "Order 0193ab12-3456-7abc-8def-0123456789ab received, 3 items",
	OrderID: "0193ab12-3456-7abc-8def-0123456789ab", EventID: "0193ab12-0000-7000-8000-000000000001",
}

func TestTwilioRequestContract(t *testing.T) {
	t.Parallel()
	fake := startTwilioFake(t, http.StatusCreated,
		`{"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued", "to": "+447700900961"}`)
	p := newTestTwilio(t, fake.URL, 5*time.Second)

	id, err := p.Send(context.Background(), testSMS)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if id != "SM0123456789abcdef0123456789abcdef" {
		t.Errorf("id = %q, want the answer's sid", id)
	}
	req, raw := fake.last()
	if req == nil {
		t.Fatal("the fake got no request")
	}
	if req.Method != http.MethodPost {
		t.Errorf("method = %s, want POST", req.Method)
	}
	if want := "/2010-04-01/Accounts/" + testSID + "/Messages.json"; req.URL.Path != want || req.URL.RawQuery != "" {
		t.Errorf("path = %s?%s, want %s", req.URL.Path, req.URL.RawQuery, want)
	}
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(testSID+":"+testToken))
	if got := req.Header.Get("Authorization"); got != wantAuth {
		t.Errorf("Authorization = %q, want %q", got, wantAuth)
	}
	if got := req.Header.Get("Content-Type"); got != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q, want application/x-www-form-urlencoded", got)
	}
	form, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatalf("form %q: %v", raw, err)
	}
	want := url.Values{"To": {testSMS.To}, "From": {testFrom}, "Body": {testSMS.Body}}
	if form.Encode() != want.Encode() {
		t.Errorf("form = %v, want exactly %v", form, want)
	}
}

func TestTwilioAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		status        int
		body          string
		wantID        string
		wantErr       bool
		wantPermanent bool
		wantCode      string
		wantText      []string // substrings of the error text
	}{
		{name: "201 created", status: 201, body: `{"sid": "SMaaa", "status": "queued"}`, wantID: "SMaaa"},
		{name: "201 without sid still accepted", status: 201, body: `{}`, wantID: ""},
		{name: "400 invalid number", status: 400,
			body:    `{"code": 21211, "message": "The 'To' number +447700900961 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}`,
			wantErr: true, wantPermanent: true, wantCode: "21211",
			wantText: []string{"400", "error 21211", "+44*******961"}},
		{name: "400 not a mobile number", status: 400,
			body:    `{"code": 21614, "message": "'To' number is not a valid mobile number", "status": 400}`,
			wantErr: true, wantPermanent: true, wantCode: "21614", wantText: []string{"400", "error 21614"}},
		{name: "400 unsubscribed recipient", status: 400,
			body:    `{"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}`,
			wantErr: true, wantPermanent: true, wantCode: "21610", wantText: []string{"error 21610"}},
		{name: "400 unknown code by status", status: 400,
			body:    `{"code": 21999, "message": "Something about this message", "status": 400}`,
			wantErr: true, wantPermanent: true, wantCode: "21999", wantText: []string{"error 21999"}},
		{name: "400 without a code by status", status: 400, body: `bad request`,
			wantErr: true, wantPermanent: true, wantText: []string{"400", "bad request"}},
		{name: "400 sender not a Twilio number", status: 400,
			body:    `{"code": 21606, "message": "The From phone number +15005550006 is not a valid, SMS-capable inbound phone number or short code for your account.", "status": 400}`,
			wantErr: true, wantCode: "21606", wantText: []string{"400", "error 21606"}},
		{name: "400 region not enabled", status: 400,
			body:    `{"code": 21408, "message": "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: +447700900961.", "status": 400}`,
			wantErr: true, wantCode: "21408", wantText: []string{"error 21408", "+44*******961"}},
		{name: "401 bad credentials", status: 401,
			body:    `{"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}`,
			wantErr: true, wantCode: "20003", wantText: []string{"401", "error 20003"}},
		{name: "403 forbidden", status: 403, body: `{"code": 20005, "message": "Account not active", "status": 403}`,
			wantErr: true, wantCode: "20005", wantText: []string{"403"}},
		{name: "404 wrong account", status: 404,
			body:    `{"code": 20404, "message": "The requested resource was not found", "status": 404}`,
			wantErr: true, wantCode: "20404", wantText: []string{"404", "error 20404"}},
		{name: "408 timeout", status: 408, body: ``, wantErr: true, wantText: []string{"408"}},
		{name: "422 by status", status: 422, body: `{"message": "unprocessable"}`,
			wantErr: true, wantPermanent: true, wantText: []string{"422"}},
		{name: "429 too many requests", status: 429,
			body:    `{"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429}`,
			wantErr: true, wantCode: "20429", wantText: []string{"429", "error 20429"}},
		{name: "500 server error", status: 500, body: `<html>Internal Server Error</html>`,
			wantErr: true, wantText: []string{"500", "Internal Server Error"}},
		{name: "503 unavailable", status: 503, body: ``, wantErr: true, wantText: []string{"503"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := startTwilioFake(t, tt.status, tt.body)
			id, err := newTestTwilio(t, fake.URL, 5*time.Second).Send(context.Background(), testSMS)
			if !tt.wantErr {
				if err != nil || id != tt.wantID {
					t.Fatalf("Send = %q, %v; want %q, nil", id, err, tt.wantID)
				}
				return
			}
			checkSendError(t, err, tt.wantPermanent, tt.status, tt.wantCode, tt.wantText)
		})
	}
}

func TestTwilioNoAnswerIsTransient(t *testing.T) {
	t.Parallel()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // then a client hanging up cancels r's context
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(slow.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // nothing listens there any more

	tests := []struct{ name, url, text string }{
		{name: "timeout", url: slow.URL, text: "no answer in time"},
		{name: "connection refused", url: closed.URL, text: "no answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := newTestTwilio(t, tt.url, 200*time.Millisecond).Send(context.Background(), testSMS)
			checkSendError(t, err, false, 0, "", []string{"twilio: " + tt.text})
			if strings.Contains(err.Error(), "127.0.0.1") && strings.Contains(err.Error(), "Messages.json") {
				t.Errorf("error %q shows the request URL", err)
			}
		})
	}
}

// checkSendError asserts that err is a *sendError of the given kind whose
// text says wantText and never shows the test number.
func checkSendError(t *testing.T, err error, permanent bool, status int, code string, wantText []string) {
	t.Helper()
	var se *sendError
	if !errors.As(err, &se) {
		t.Fatalf("error = %v (%T), want a *sendError", err, err)
	}
	if se.Permanent != permanent || se.Status != status || se.Code != code {
		t.Errorf("SendError = {Permanent: %v, Status: %d, Code: %q}, want {%v, %d, %q}",
			se.Permanent, se.Status, se.Code, permanent, status, code)
	}
	for _, want := range wantText {
		if !strings.Contains(se.Error(), want) {
			t.Errorf("error text %q lacks %q", se.Error(), want)
		}
	}
	if strings.Contains(se.Error(), testSMS.To) {
		t.Errorf("error text %q shows the number", se.Error())
	}
}
