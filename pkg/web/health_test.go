package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestHandleHealthz(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	HandleHealthz().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != 200 || rec.Body.String() != "{\"status\":\"ok\"}\n" {
		t.Fatalf("got %d %q", rec.Code, rec.Body.String())
	}
}

func TestHandleReadyz(t *testing.T) {
	t.Parallel()
	ok := func(context.Context) error { return nil }
	failing := func(context.Context) error { return errors.New("dial tcp 127.0.0.1:5432: connection refused") }
	slow := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	stuck := func(context.Context) error { <-release; return nil }
	panicking := func(context.Context) error { panic("boom") }
	degraded := func(context.Context) error {
		return Degraded(errors.New("consumer email paused: smtp unavailable"))
	}
	tests := []struct {
		name        string
		checks      map[string]Check
		wantStatus  int
		wantOverall string            // top-level status; empty: ok for 200, unavailable for 503
		want        map[string]string // check name → status
		wantErr     map[string]string // check name → error text
	}{
		{name: "no checks", checks: nil, wantStatus: 200, want: map[string]string{}},
		{name: "all ok", checks: map[string]Check{"postgres": ok, "nats": ok}, wantStatus: 200,
			want: map[string]string{"postgres": "ok", "nats": "ok"}},
		{name: "one failing", checks: map[string]Check{"postgres": ok, "nats": failing}, wantStatus: 503,
			want:    map[string]string{"postgres": "ok", "nats": "error"},
			wantErr: map[string]string{"nats": "dial tcp 127.0.0.1:5432: connection refused"}},
		{name: "timeout", checks: map[string]Check{"postgres": slow, "nats": ok}, wantStatus: 503,
			want:    map[string]string{"postgres": "error", "nats": "ok"},
			wantErr: map[string]string{"postgres": "timeout after 50ms"}},
		{name: "check ignoring its context", checks: map[string]Check{"stuck": stuck}, wantStatus: 503,
			want:    map[string]string{"stuck": "error"},
			wantErr: map[string]string{"stuck": "timeout after 50ms"}},
		{name: "degraded stays ready", checks: map[string]Check{"postgres": ok, "consumers": degraded}, wantStatus: 200,
			wantOverall: "degraded",
			want:        map[string]string{"postgres": "ok", "consumers": "degraded"},
			wantErr:     map[string]string{"consumers": "consumer email paused: smtp unavailable"}},
		{name: "failing wins over degraded", checks: map[string]Check{"nats": failing, "consumers": degraded}, wantStatus: 503,
			want:    map[string]string{"nats": "error", "consumers": "degraded"},
			wantErr: map[string]string{"nats": "dial tcp 127.0.0.1:5432: connection refused", "consumers": "consumer email paused: smtp unavailable"}},
		{name: "panic", checks: map[string]Check{"p": panicking}, wantStatus: 503,
			want:    map[string]string{"p": "error"},
			wantErr: map[string]string{"p": "check panicked: boom"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			handleReadyz(tt.checks, 50*time.Millisecond).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("content type = %q", ct)
			}
			var body ReadyzResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			wantOverall := tt.wantOverall
			if wantOverall == "" {
				wantOverall = map[int]string{200: "ok", 503: "unavailable"}[tt.wantStatus]
			}
			if body.Status != wantOverall || len(body.Checks) != len(tt.want) {
				t.Fatalf("body = %+v, want status %q and %d checks", body, wantOverall, len(tt.want))
			}
			for name, status := range tt.want {
				if got := body.Checks[name]; got.Status != status || got.Error != tt.wantErr[name] {
					t.Errorf("check %s = %+v, want status %q error %q", name, got, status, tt.wantErr[name])
				}
			}
		})
	}
}

func TestHandleReadyzDefaultTimeout(t *testing.T) {
	t.Parallel()
	var deadline time.Duration
	check := func(ctx context.Context) error {
		d, ok := ctx.Deadline()
		if !ok {
			return errors.New("no deadline")
		}
		deadline = time.Until(d)
		return nil
	}
	rec := httptest.NewRecorder()
	HandleReadyz(map[string]Check{"c": check}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != 200 || deadline <= time.Second || deadline > ReadyzTimeout {
		t.Fatalf("status %d, check deadline in %s; want 200 and about %s", rec.Code, deadline, ReadyzTimeout)
	}
}

func TestDegraded(t *testing.T) {
	t.Parallel()
	base := errors.New("smtp unavailable")
	if Degraded(nil) != nil {
		t.Error("Degraded(nil) != nil")
	}
	err := fmt.Errorf("check: %w", Degraded(base))
	if !IsDegraded(err) || !errors.Is(err, base) || err.Error() != "check: smtp unavailable" {
		t.Errorf("wrapped degraded error = %v: IsDegraded %v, Is(base) %v", err, IsDegraded(err), errors.Is(err, base))
	}
	if IsDegraded(base) {
		t.Error("IsDegraded of a plain error is true")
	}
}
