package main

import "sync"

// hub tells the page's event streams that the state changed. A stream
// waits on the channel of the moment and then sends one snapshot, however
// many changes happened meanwhile, so a burst of orders costs one update
// per stream, not one per event.
type hub struct {
	mu   sync.Mutex
	wake chan struct{}
}

func newHub() *hub { return &hub{wake: make(chan struct{})} }

// changed wakes every waiting stream.
func (h *hub) changed() {
	h.mu.Lock()
	defer h.mu.Unlock()
	close(h.wake)
	h.wake = make(chan struct{})
}

// wait returns a channel closed at the next change.
func (h *hub) wait() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.wake
}
