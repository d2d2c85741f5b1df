// Package chaos runs orderbus under faults and proves that no effect was
// lost or applied twice. Run starts a system with durable settings
// (PostgreSQL with fsync on, NATS with sync_interval: always), places
// orders from clients that retry each POST with its Idempotency-Key until
// they get a 2xx answer, and meanwhile executes a seeded schedule of
// faults: SIGKILL and restart of every service and of nats-server, a crash
// restart of PostgreSQL, the mail server down for longer than a
// consumer's retry budget, latency and cut connections through TCP
// proxies, and SIGSTOP pauses. Once the system has settled, Check
// reconciles every accepted order across every service (Jepsen-style: each
// effect expected, applied, lost, duplicated or unexpected) and the
// infrastructure (outboxes, consumers, dead letters).
//
// The command e2e/cmd/orderbus-chaos (make chaos) runs the long schedule;
// the package's test runs a short one in make e2e.
package chaos
