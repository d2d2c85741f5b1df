// Package e2e is the end-to-end suite of orderbus: each test starts the
// whole system as local processes with the launcher package (its own
// nats-server, Mailpit, databases and service processes, sharing one
// PostgreSQL cluster per run) and checks, from the outside, the promise of
// the design: every accepted order gets exactly one receipt, whichever
// part of the system was down for a while.
//
// Run it from this folder with `go test ./...`; it needs Go, the
// PostgreSQL server binaries and the module proxy (for nats-server and
// Mailpit, built once into the tools folder). It fails, never skips, when
// any of them is missing.
package e2e
