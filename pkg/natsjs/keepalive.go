package natsjs

import (
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// keepAlive sends InProgress for a held message every interval, from the
// moment it is fetched until stop, so neither a queued message nor a slow
// handler outlives AckWait and gets redelivered to another instance.
type keepAlive struct {
	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
}

// startKeepAlive starts sending InProgress for msg every interval.
func startKeepAlive(msg jetstream.Msg, interval time.Duration) *keepAlive {
	k := &keepAlive{}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.timer = time.AfterFunc(interval, func() {
		k.mu.Lock()
		defer k.mu.Unlock()
		if k.stopped {
			return
		}
		// An error means the connection is down: the server will redeliver
		// after AckWait, which the inbox makes harmless. Keep trying.
		_ = msg.InProgress()
		k.timer.Reset(interval)
	})
	return k
}

// stop stops the InProgress signals; no InProgress is sent after it returns.
func (k *keepAlive) stop() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.stopped = true
	k.timer.Stop()
}
