// Package natsjs is orderbus's JetStream plumbing: a connection that
// reconnects forever, idempotent stream setup, a publisher that waits for
// the PubAck, and a durable pull-consumer runner that turns a handler's
// returned error into the right acknowledgement.
//
// The runner's promise is at-least-once delivery with no message left
// behind: a message is acknowledged only after its handler returned nil;
// a transient error is retried after a delay growing with the delivery
// count; a permanent error, an exhausted delivery budget or a malformed
// event is copied to the DLQ stream with the error before it is
// terminated, and if that copy cannot be stored the message is retried
// rather than dropped. Handlers must therefore be idempotent (see
// pkg/inbox).
package natsjs
