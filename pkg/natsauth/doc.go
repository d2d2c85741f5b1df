// Package natsauth derives the NATS identities of orderbus and their
// permissions from the catalogue in pkg/events, and renders them as the
// nats-server accounts configuration that both docker compose
// (deploy/nats/accounts.conf, checked in and kept equal to Render's output
// by a test) and the launcher (pkg/stack) use.
//
// Every service connects as its own user of one account, ORDERBUS, which
// holds the streams and has JetStream limits of its own. A service may
// publish only its own event subjects and the dead letters of its own
// durables, call the JetStream API only for its own durables (info,
// create/update, next), the streams it manages (create/update) and, for
// gdpr, the streams it purges, acknowledge only its own durables'
// messages, and subscribe only to its own reply inbox
// (_INBOX_<user>.>, see InboxPrefix). The reader identity reads stream and
// consumer state and lists and shows dead letters; the admin identity
// (operators: DLQ redrive and purge, the nats CLI) may do anything in the
// account. No user is anonymous: the server refuses clients without
// credentials.
//
// Passwords are never in the configuration: each user's password is read
// by nats-server from its environment (PasswordVar). Development passwords
// (DevPassword) are published; services refuse them outside
// ORDERBUS_ENV=development.
package natsauth
