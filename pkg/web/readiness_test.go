package web

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestReadinessAnswersFromCache(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	var failing atomic.Bool
	rd := NewReadiness(map[string]Check{"db": func(context.Context) error {
		calls.Add(1)
		if failing.Load() {
			return errors.New("down")
		}
		return nil
	}}, 50*time.Millisecond)
	get := func() int {
		rec := httptest.NewRecorder()
		rd.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec.Code
	}
	if got := get(); got != http.StatusServiceUnavailable {
		t.Fatalf("before the first run: %d, want 503", got)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- rd.Run(ctx) }()
	waitFor(t, "ready", 2*time.Second, func() bool { return get() == http.StatusOK })
	before := calls.Load()
	for range 100 {
		get()
	}
	if n := calls.Load() - before; n > 2 {
		t.Errorf("100 polls ran the check %d times, want them served from the cache", n)
	}
	failing.Store(true)
	waitFor(t, "unready after the refresh", 2*time.Second, func() bool { return get() == http.StatusServiceUnavailable })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
