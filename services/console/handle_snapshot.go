package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/orderbus/orderbus/pkg/web"
)

// handleSnapshot answers the page's data once, as JSON (see snapshot).
func handleSnapshot(st *state) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		web.Encode(w, http.StatusOK, st.snapshot())
	})
}

// Event stream pacing: at most one snapshot per minGap, however fast the
// events come, and a comment every keepAlive so proxies keep the stream.
const (
	minGap    = 200 * time.Millisecond
	keepAlive = 15 * time.Second
)

// handleStream pushes the page's data as server-sent events: a
// "snapshot" event at once and again after every change. It ends when
// the client goes or the console shuts down (done).
func handleStream(logger *slog.Logger, st *state, h *hub, done <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		send := func() error {
			b, err := json.Marshal(st.snapshot())
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintf(w, "event: snapshot\ndata: %s\n\n", b); err != nil {
				return err
			}
			return rc.Flush()
		}
		tick := time.NewTicker(keepAlive)
		defer tick.Stop()
		for {
			wake := h.wait()
			if err := send(); err != nil {
				logger.Debug("event stream ended", "error", err)
				return
			}
			select {
			case <-r.Context().Done():
				return
			case <-done:
				return
			case <-tick.C:
				if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
					return
				}
				continue
			case <-wake:
			}
			select { // let a burst of changes gather into one snapshot
			case <-r.Context().Done():
				return
			case <-done:
				return
			case <-time.After(minGap):
			}
		}
	})
}
