package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestRateLimit(t *testing.T) {
	t.Parallel()
	var served int
	h := RateLimit(3, RateLimitSettings{Window: time.Minute, IPHeader: "X-Forwarded-For"})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { served++ }))
	send := func(client string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/v1/orders", nil)
		req.Header.Set("X-Forwarded-For", client+", 10.0.0.1")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for i := range 3 {
		if rec := send("192.0.2.1"); rec.Code != 200 {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
	}
	rec := send("192.0.2.1")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "60" ||
		rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("4th request: %d Retry-After %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if served != 3 {
		t.Fatalf("handler ran %d times, want 3 (never for the refused one)", served)
	}
	if rec := send("192.0.2.2"); rec.Code != 200 {
		t.Fatalf("another client: %d, want 200", rec.Code)
	}
}

func TestClientIP(t *testing.T) {
	t.Parallel()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = "198.51.100.7:5555"
	req.Header.Set("X-Real-IP", "203.0.113.9")
	for _, tt := range []struct{ header, want string }{
		{"", "198.51.100.7"},
		{"X-Real-IP", "203.0.113.9"},
		{"X-Forwarded-For", "198.51.100.7"}, // absent: the remote address
	} {
		if got := ClientIP(req, tt.header); got != tt.want {
			t.Errorf("ClientIP(%q) = %q, want %q", tt.header, got, tt.want)
		}
	}
	req.Header.Set("X-Forwarded-For", "not an ip")
	if got := ClientIP(req, "X-Forwarded-For"); got != "198.51.100.7" {
		t.Errorf("garbage header: %q", got)
	}
}

func TestRateLimitSettingsValidate(t *testing.T) {
	t.Parallel()
	if (RateLimitSettings{Window: time.Second}).Validate() != nil || (RateLimitSettings{Window: time.Millisecond}).Validate() == nil {
		t.Error("window validation")
	}
}
