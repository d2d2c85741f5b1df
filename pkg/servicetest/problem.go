package servicetest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// CheckProblem serves method path on h and fails tb unless the answer is
// status with an application/problem+json body carrying that status, and
// its Allow header is allow ("" for none): how every service must answer
// an unknown path (404) or an unsupported method on a route (405).
func CheckProblem(tb testing.TB, h http.Handler, method, path string, status int, allow string) {
	tb.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	if rec.Code != status {
		tb.Fatalf("%s %s = %d %s, want %d", method, path, rec.Code, rec.Body, status)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		tb.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	if got := rec.Header().Get("Allow"); got != allow {
		tb.Errorf("Allow = %q, want %q", got, allow)
	}
	var p struct {
		Status int `json:"status"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != status {
		tb.Errorf("body %s: want a problem with status %d (%v)", rec.Body, status, err)
	}
}
