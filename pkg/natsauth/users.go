package natsauth

import (
	"slices"
	"strings"

	"github.com/orderbus/orderbus/pkg/events"
)

// Account is the NATS account holding the orderbus streams and users.
const Account = "ORDERBUS"

// Identities beside the services (events.Services names the others).
const (
	// UserReader is the read-only identity of tools: orderbus-dlq list and
	// show, monitoring, the console.
	UserReader = "reader"
	// UserAdmin is the operator identity: DLQ redrive and purge, stream
	// administration with the nats CLI.
	UserAdmin = "admin"
)

// User is one NATS identity and the subjects it may publish and subscribe
// to; nats-server denies everything else.
type User struct {
	Name      string
	Publish   []string
	Subscribe []string
}

// Users returns every identity: one per service of events.Services, in
// its order, then UserReader and UserAdmin.
func Users() []User {
	var users []User
	for _, s := range events.Services() {
		users = append(users, serviceUser(s))
	}
	return append(users, readerUser(), adminUser())
}

// Names returns the names of Users, in order.
func Names() []string {
	var names []string
	for _, u := range Users() {
		names = append(names, u.Name)
	}
	return names
}

// InboxPrefix returns the reply inbox prefix of user, "_INBOX_<user>": a
// user may subscribe only to its own replies, so no identity reads the
// messages another one fetches. natsjs.Connect sets it.
func InboxPrefix(user string) string { return "_INBOX_" + user }

// PasswordVar returns the environment variable from which nats-server
// reads user's password, NATS_PASSWORD_<USER> (upper case, '-' as '_').
func PasswordVar(user string) string {
	return "NATS_PASSWORD_" + strings.ToUpper(strings.ReplaceAll(user, "-", "_"))
}

// DevPassword returns the published development password of user, for
// `make run`, docker compose and tests. Services refuse it unless
// ORDERBUS_ENV=development (IsDevPassword).
func DevPassword(user string) string { return "orderbus-dev-nats-" + user }

// IsDevPassword reports whether password is the development password of
// any identity.
func IsDevPassword(password string) bool {
	return slices.ContainsFunc(Names(), func(u string) bool { return DevPassword(u) == password })
}

// api is the JetStream API subject prefix.
const api = "$JS.API."

// serviceUser derives a service's permissions from its catalogue entry.
func serviceUser(s events.Service) User {
	pub := slices.Clone(s.Publishes)
	// Account info (readiness), stream names (the stream setup's repair
	// check) and the info of every stream: metadata, no messages.
	pub = append(pub, api+"INFO", api+"STREAM.NAMES")
	for _, stream := range streamNames() {
		pub = append(pub, api+"STREAM.INFO."+stream)
	}
	for _, stream := range s.Manages {
		pub = append(pub, api+"STREAM.CREATE."+stream, api+"STREAM.UPDATE."+stream)
	}
	for _, stream := range s.Purges {
		pub = append(pub, api+"STREAM.PURGE."+stream, api+"STREAM.MSG.GET."+stream, api+"DIRECT.GET."+stream,
			api+"STREAM.MSG.DELETE."+stream)
	}
	for _, d := range s.Consumers {
		sd := d.Stream + "." + d.Durable
		pub = append(pub,
			events.DLQSubject(d.Durable, ">"),
			api+"CONSUMER.INFO."+sd,
			api+"CONSUMER.CREATE."+sd,      // several filters, or an update
			api+"CONSUMER.CREATE."+sd+".>", // one filter, appended to the subject
			api+"CONSUMER.DURABLE.CREATE."+sd,
			api+"CONSUMER.MSG.NEXT."+sd,
			"$JS.ACK."+sd+".>",
		)
	}
	return User{Name: s.Name, Publish: pub, Subscribe: []string{InboxPrefix(s.Name) + ".>"}}
}

// readerUser may read the state of every stream and consumer, read
// messages through its own ephemeral (ordered) consumers on every stream
// (the console's live view, orderbus-dlq list) and dead letters directly
// (orderbus-dlq show), but publishes no event, acknowledges nothing and
// changes no stream. It may delete consumers only on the DLQ (its own
// listing consumers; no service has a durable there); elsewhere its
// ephemeral consumers expire by their inactivity threshold.
func readerUser() User {
	dlq := events.StreamDLQ
	pub := []string{
		api + "INFO", api + "STREAM.NAMES", api + "STREAM.LIST", api + "STREAM.INFO.*",
		api + "CONSUMER.NAMES.*", api + "CONSUMER.LIST.*", api + "CONSUMER.INFO.*.*",
		api + "STREAM.MSG.GET." + dlq, api + "DIRECT.GET." + dlq, api + "DIRECT.GET." + dlq + ".>",
		api + "CONSUMER.DELETE." + dlq + ".*",
	}
	for _, stream := range streamNames() {
		pub = append(pub, api+"CONSUMER.CREATE."+stream+".*", api+"CONSUMER.CREATE."+stream+".*.>",
			api+"CONSUMER.MSG.NEXT."+stream+".*")
	}
	return User{Name: UserReader, Publish: pub, Subscribe: []string{InboxPrefix(UserReader) + ".>"}}
}

// adminUser may do anything in the account.
func adminUser() User {
	return User{Name: UserAdmin, Publish: []string{">"}, Subscribe: []string{">"}}
}

// streamNames returns the names of events.Streams.
func streamNames() []string {
	var names []string
	for _, c := range events.Streams(events.DefaultRetention()) {
		names = append(names, c.Name)
	}
	return names
}
