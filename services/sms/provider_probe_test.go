package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/stack"
)

// The probes run against real HTTP servers: the request each sends is
// checked, and each answer of the status table passes or fails it as a
// Send with that answer would be retried or not.

func TestWebhookProbe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		pass   bool
	}{
		{status: 200, pass: true},
		{status: 204, pass: true},
		{status: 405, pass: true}, // the endpoint is there, HEAD is not its method
		{status: 400, pass: true},
		{status: 401},
		{status: 403},
		{status: 404},
		{status: 408},
		{status: 429},
		{status: 500},
		{status: 503},
		{status: 302},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			t.Parallel()
			hook := startWebhook(t, tt.status)
			err := newTestWebhook(t, hook.URL+"/sms", 2*time.Second).Probe(context.Background())
			if (err == nil) != tt.pass {
				t.Errorf("Probe with answer %d = %v, want pass %v", tt.status, err, tt.pass)
			}
			calls := hook.requests()
			if len(calls) != 1 || calls[0].Method != http.MethodHead || calls[0].Path != "/sms" || calls[0].Raw != "" {
				t.Fatalf("the receiver got %+v, want one HEAD /sms without a body", calls)
			}
			if ua := calls[0].Header.Get("User-Agent"); ua != userAgent {
				t.Errorf("User-Agent = %q, want %q", ua, userAgent)
			}
		})
	}
	t.Run("no answer", func(t *testing.T) {
		t.Parallel()
		port, release, err := stack.RefusingPort()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(release)
		closed := fmt.Sprintf("http://127.0.0.1:%d", port)
		if err := newTestWebhook(t, closed, time.Second).Probe(context.Background()); err == nil {
			t.Error("Probe of a closed port passed")
		}
	})
}

func TestTwilioProbe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		body   string
		pass   bool
	}{
		{status: 200, body: `{"sid": "` + testSID + `", "status": "active"}`, pass: true},
		{status: 401, body: `{"code": 20003, "message": "Authenticate", "status": 401}`},
		{status: 404, body: `{"code": 20404, "message": "The requested resource was not found", "status": 404}`},
		{status: 429, body: `{"code": 20429, "message": "Too Many Requests", "status": 429}`},
		{status: 503, body: ``},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			t.Parallel()
			fake := startTwilioFake(t, tt.status, tt.body)
			err := newTestTwilio(t, fake.URL, 5*time.Second).Probe(context.Background())
			if (err == nil) != tt.pass {
				t.Errorf("Probe with answer %d = %v, want pass %v", tt.status, err, tt.pass)
			}
			req, raw := fake.last()
			if req == nil {
				t.Fatal("the fake got no request")
			}
			if want := "/2010-04-01/Accounts/" + testSID + ".json"; req.Method != http.MethodGet || req.URL.Path != want || raw != "" {
				t.Errorf("request = %s %s with body %q, want GET %s without one", req.Method, req.URL.Path, raw, want)
			}
			wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(testSID+":"+testToken))
			if got := req.Header.Get("Authorization"); got != wantAuth {
				t.Errorf("Authorization = %q, want %q", got, wantAuth)
			}
		})
	}
}

func TestLogProviderProbePasses(t *testing.T) {
	t.Parallel()
	if err := (&logProvider{}).Probe(context.Background()); err != nil {
		t.Errorf("log provider Probe = %v, want nil", err)
	}
}
