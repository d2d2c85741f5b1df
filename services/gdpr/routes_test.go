package main

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/orderbus/orderbus/pkg/web"
)

// TestUnsupportedMethodIsProblem checks that a method no route accepts on
// a path answers 405 problem+json naming the allowed methods, on the
// erasure routes (with or without the token) and the operational ones.
func TestUnsupportedMethodIsProblem(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	tests := []struct {
		method, path, token, wantAllow string
	}{
		{method: http.MethodDelete, path: "/v1/erasures", token: testToken, wantAllow: "POST"},
		{method: http.MethodGet, path: "/v1/erasures", token: testToken, wantAllow: "POST"},
		{method: http.MethodPut, path: "/v1/erasures/" + uuid.NewString(), token: testToken, wantAllow: "GET"},
		{method: http.MethodDelete, path: "/v1/erasures/" + uuid.NewString(), wantAllow: "GET"},
		{method: http.MethodPost, path: "/healthz", wantAllow: "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			res := e.do(tt.method, tt.path, tt.token, "")
			var p web.Problem
			if err := json.Unmarshal([]byte(res.body), &p); err != nil {
				t.Fatalf("%s %s: decode problem: %v: %q", tt.method, tt.path, err, res.body)
			}
			if res.code != http.StatusMethodNotAllowed || p.Status != http.StatusMethodNotAllowed ||
				res.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s %s = %d %s %+v, want a 405 problem", tt.method, tt.path,
					res.code, res.header.Get("Content-Type"), p)
			}
			if got := res.header.Get("Allow"); got != tt.wantAllow {
				t.Errorf("%s %s: Allow = %q, want %q", tt.method, tt.path, got, tt.wantAllow)
			}
		})
	}
	t.Cleanup(func() { e.assertNothingStored(t) })
}
