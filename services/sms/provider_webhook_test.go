package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/servicetest"
)

// newTestWebhook returns the provider loadConfig and newProvider make for
// the receiver at url.
func newTestWebhook(t *testing.T, url string, timeout time.Duration) smsProvider {
	t.Helper()
	cfg, err := loadConfig(servicetest.Getenv(map[string]string{
		"DATABASE_URL": "postgres://db/sms", "SMS_PROVIDER": "webhook", "SMS_WEBHOOK_URL": url,
		"SMS_WEBHOOK_TIMEOUT": timeout.String(),
	}))
	if err != nil {
		t.Fatal(err)
	}
	p, err := newProvider(cfg, newHTTPClient(cfg.providerTimeout(), 1), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWebhookAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		status        int
		wantID        string
		wantErr       bool
		wantPermanent bool
	}{
		{name: "200 with id", status: 200, wantID: "hook-0"},
		{name: "202 with id", status: 202, wantID: "hook-0"},
		// What is wrong with this message or recipient: dead-lettered at once.
		{name: "400 bad request", status: 400, wantErr: true, wantPermanent: true},
		{name: "409 conflict", status: 409, wantErr: true, wantPermanent: true},
		{name: "410 gone", status: 410, wantErr: true, wantPermanent: true},
		{name: "413 too large", status: 413, wantErr: true, wantPermanent: true},
		{name: "415 unsupported type", status: 415, wantErr: true, wantPermanent: true},
		{name: "422 refused", status: 422, wantErr: true, wantPermanent: true},
		// The sender's configuration or the receiver's state: retried
		// until it is fixed.
		{name: "401 unauthorized", status: 401, wantErr: true},
		{name: "403 forbidden", status: 403, wantErr: true},
		{name: "404 wrong endpoint", status: 404, wantErr: true},
		{name: "408 request timeout", status: 408, wantErr: true},
		{name: "425 too early", status: 425, wantErr: true},
		{name: "429 throttled", status: 429, wantErr: true},
		{name: "500 failed", status: 500, wantErr: true},
		{name: "502 bad gateway", status: 502, wantErr: true},
		{name: "503 unavailable", status: 503, wantErr: true},
		{name: "302 redirect not followed", status: 302, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hook := startWebhook(t, tt.status)
			id, err := newTestWebhook(t, hook.URL+"/sms", 2*time.Second).Send(context.Background(), testSMS)
			if n := len(hook.requests()); n != 1 {
				t.Errorf("the receiver got %d requests, want 1", n)
			}
			if !tt.wantErr {
				if err != nil || id != tt.wantID {
					t.Fatalf("Send = %q, %v; want %q, nil", id, err, tt.wantID)
				}
				return
			}
			// The receiver's error body quotes the number: it must be masked.
			checkSendError(t, err, tt.wantPermanent, tt.status, "", []string{"webhook: answered"})
		})
	}
}

func TestWebhookWithoutIDAnswerUsesEventID(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	id, err := newTestWebhook(t, srv.URL, 2*time.Second).Send(context.Background(), testSMS)
	if err != nil || id != testSMS.EventID {
		t.Fatalf("Send = %q, %v; want the event id %q", id, err, testSMS.EventID)
	}
}

func TestWebhookTimeoutIsTransient(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // then a client hanging up cancels r's context
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	_, err := newTestWebhook(t, srv.URL, 200*time.Millisecond).Send(context.Background(), testSMS)
	checkSendError(t, err, false, 0, "", []string{"webhook: no answer in time"})
}
