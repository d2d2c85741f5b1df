package natsjs

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// EnsureStreams creates each stream, or updates it to cfg when it exists,
// so that it is safe to call at every start of every instance. It stops at
// the first stream it cannot create or update (JetStream down, or a change
// JetStream forbids, such as the storage type) and returns that error.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, cfgs ...jetstream.StreamConfig) error {
	for _, cfg := range cfgs {
		if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("ensure stream %s: %w", cfg.Name, err)
		}
	}
	return nil
}
