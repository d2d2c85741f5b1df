// Package stack starts the infrastructure orderbus runs on as local child
// processes: a throwaway PostgreSQL cluster (initdb), a nats-server with
// JetStream, and Mailpit. It builds the pinned tool binaries it needs from
// the Go module proxy into a git-ignored tools folder, so tests, the e2e
// launcher and `make run` need nothing installed but Go and the PostgreSQL
// server binaries.
//
// Every server binds to 127.0.0.1 on a free port unless told otherwise, and
// every process started here is stopped by the value that started it.
package stack
