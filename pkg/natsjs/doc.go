// Package natsjs is orderbus's JetStream plumbing: a connection that
// reconnects forever, stream setup that recreates a stream gone missing,
// a publisher that waits for the PubAck, and a durable pull-consumer
// runner that turns a handler's returned error into the right
// acknowledgement.
//
// The runner's promise is at-least-once delivery with no message left
// behind, however long an outage lasts:
//   - a message is acknowledged only after its handler returned nil;
//   - a transient error (any error but a Permanent or malformed one, a
//     panic, a call past its HandlerTimeout) is retried with the capped BackOff for as long as it
//     takes; no delivery count dead-letters it (the server's MaxDeliver is
//     unlimited);
//   - after PauseAfter transient failures in a row the consumer stops
//     fetching and probes the failing dependency (see Unavailable and
//     ConsumerConfig.Probes); the service stays ready, and /readyz shows
//     the pause (PausedCheck, web.Degraded);
//   - a permanent error or a malformed event is copied to the DLQ stream
//     with the error at its first occurrence, and terminated only once the
//     copy is stored; while the DLQ cannot store it (missing, full) the
//     message is retried instead;
//   - an event whose ce-source is not the service allowed to publish its
//     subject (events.CheckSource) is dead-lettered the same way, with
//     reason foreign_source, and never reaches the handler;
//   - a runner holds no more messages than its handlers can start, and
//     releases them at once on stop, so restarts cost nothing;
//   - a new durable starts with new messages (ReplayHistory for the whole
//     stream); an existing one keeps its position.
//
// Handlers must therefore be idempotent (see pkg/inbox). The README's
// "How nothing gets lost" tells the whole story.
package natsjs
