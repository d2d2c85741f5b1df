// Package launcher starts the whole orderbus system as local processes:
// a PostgreSQL cluster with one database per service, nats-server with
// JetStream, Mailpit as the mail catcher, and the service binaries, each
// configured through its environment as in production. `make run` uses it
// on the fixed ports of the design; the end-to-end tests start many
// systems side by side on free ports, sharing one PostgreSQL cluster.
// Config.Postgres and Config.Infrastructure let a caller put PostgreSQL,
// NATS and the mail catcher elsewhere (the e2e suite's containers); the
// services are always local processes.
//
// Services are known by name from a small table (services.go): adding a
// service to the system is one line there, with its default port, its
// database and any environment beyond the common variables.
package launcher
