// Package e2e is the end-to-end suite of orderbus: each test starts the
// whole system as local processes with the launcher package (its own
// nats-server, Mailpit, databases and the order, inventory, email and sms
// service processes, sharing one PostgreSQL cluster per run) and checks,
// from the outside, the promise of the design: every accepted order gets
// exactly one receipt and one SMS, is reserved at most once and then
// confirmed, or rejected with one apology, whichever part of the system
// was down for a while; and scarce stock is never oversold.
//
// "Exactly once" is checked twice: when the expected count is reached, and
// again once every outbox and durable consumer on the way has drained
// (waitSettled), so that a late duplicate would be counted.
//
// Run it from this folder with `go test ./...`; it needs Go, the
// PostgreSQL server binaries and the module proxy (for nats-server and
// Mailpit, built once into the tools folder). It fails, never skips, when
// any of them is missing.
//
// With E2E_INFRA=docker the same tests run against containers instead
// (testcontainers-go, docker_test.go): one PostgreSQL container per run,
// initialised by deploy/postgres, and per system a NATS container with
// deploy/nats's configuration and a mail catcher (MailHog, or
// MAIL_CATCHER_IMAGE), all from the images docker-compose.yml pins; the
// services still run as local processes. Without a Docker engine those
// tests skip, saying so. Where Docker runs inside a container, or with
// ports published on loopback only, TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
// may be needed; without Docker Hub, TESTCONTAINERS_RYUK_DISABLED=true.
//
// The compose subpackage checks docker-compose.yml against the services'
// config structs without Docker, and with Docker runs it for real.
package e2e
