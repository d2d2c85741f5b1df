package natsauth_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsauth"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
	"github.com/orderbus/orderbus/pkg/stack"
)

var update = flag.Bool("update", false, "rewrite deploy/nats/accounts.conf")

// TestCheckedInAccounts keeps deploy/nats/accounts.conf, which docker
// compose mounts, equal to what the launcher generates.
func TestCheckedInAccounts(t *testing.T) {
	t.Parallel()
	file := filepath.Join("..", "..", "deploy", "nats", "accounts.conf")
	if *update {
		if err := os.WriteFile(file, natsauth.Render(natsauth.DefaultLimits()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if want := natsauth.Render(natsauth.DefaultLimits()); !bytes.Equal(have, want) {
		t.Errorf("%s differs from natsauth.Render(natsauth.DefaultLimits()); regenerate it with "+
			"go test ./pkg/natsauth -run TestCheckedInAccounts -update", file)
	}
}

func TestNoServiceMaySubscribeToEverything(t *testing.T) {
	t.Parallel()
	for _, u := range natsauth.Users() {
		if u.Name == natsauth.UserAdmin {
			continue
		}
		for _, s := range u.Subscribe {
			if s == ">" || strings.HasSuffix(s, "*") || !strings.HasPrefix(s, natsauth.InboxPrefix(u.Name)+".") {
				t.Errorf("user %s may subscribe to %q, want only its own inbox", u.Name, s)
			}
		}
		if slices.Contains(u.Publish, ">") {
			t.Errorf("user %s may publish anything", u.Name)
		}
	}
}

func TestAnonymousAndWrongPasswordRefused(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	for name, url := range map[string]string{
		"anonymous":      srv.URL(),
		"wrong password": strings.Replace(srv.UserURL(events.ServiceOrder), srv.Password(events.ServiceOrder), "guess", 1),
		"unknown user":   strings.Replace(srv.UserURL(events.ServiceOrder), "order:", "mallory:", 1),
	} {
		nc, err := nats.Connect(url, nats.Timeout(5*time.Second))
		if err == nil {
			nc.Close()
			t.Errorf("%s: connected, want refused", name)
			continue
		}
		if !errors.Is(err, nats.ErrAuthorization) && !strings.Contains(strings.ToLower(err.Error()), "authorization") {
			t.Errorf("%s: %v, want an authorization violation", name, err)
		}
	}
}

// TestServiceIdentities checks, for every service, that its identity
// may publish its own events but is refused publishing a subject another
// service owns, subscribing to >, and deleting or purging a stream it
// does not manage; the streams survive.
func TestServiceIdentities(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	_, admin := natstest.Connect(t, srv) // creates the streams
	foreign := map[string][]string{
		events.ServiceOrder: {events.InventoryReservedSubject("c1"), events.SubjectErasureRequested, events.ErasureCompletedSubject("sms")},
		events.ServiceInventory: {events.OrderPlacedSubject("c1"), events.OrderConfirmedSubject("c1"), events.ErasureCompletedSubject("order"),
			events.SubjectErasureVerify, events.ErasureVerifiedSubject("email")},
		events.ServiceGDPR:  {events.OrderPlacedSubject("c1"), events.ErasureCompletedSubject("order"), events.DLQSubject("email", "orders.placed.c1")},
		events.ServiceEmail: {events.OrderRejectedSubject("c1"), events.SubjectErasureRequested, events.DLQSubject("sms", "orders.placed.c1")},
		events.ServiceSMS:   {events.InventoryRejectedSubject("c1"), events.ErasureCompletedSubject("email"), "$JS.ACK.ORDERS.email.1.1.1.1.0"},
	}
	for _, s := range events.Services() {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			c := connectAs(t, srv, s.Name)
			// Its own events go through: the permissions are not just closed.
			own := strings.ReplaceAll(s.Publishes[0], "*", "c1")
			if _, err := c.js.Publish(ctxT(t), own, []byte("{}")); err != nil {
				t.Errorf("publish own subject %s: %v", own, err)
			}
			subjects := foreign[s.Name]
			if len(subjects) == 0 {
				t.Fatalf("no foreign subjects listed for %s", s.Name)
			}
			for _, subject := range subjects {
				if err := c.nc.Publish(subject, []byte("{}")); err != nil {
					t.Fatal(err)
				}
				c.wantViolation(t, "publish to \""+subject+"\"")
			}
			if _, err := c.nc.SubscribeSync(">"); err != nil {
				t.Fatal(err)
			}
			c.wantViolation(t, "subscription to \">\"")
			for _, stream := range []string{events.StreamOrders, events.StreamInventory, events.StreamGDPR, events.StreamDLQ} {
				c.request(t, "$JS.API.STREAM.DELETE."+stream)
				c.wantViolation(t, "publish to \"$JS.API.STREAM.DELETE."+stream+"\"")
				if slices.Contains(s.Purges, stream) {
					continue
				}
				for _, op := range []string{"STREAM.PURGE.", "STREAM.MSG.DELETE."} {
					c.request(t, "$JS.API."+op+stream)
					c.wantViolation(t, "publish to \"$JS.API."+op+stream+"\"")
				}
			}
			for _, stream := range []string{events.StreamOrders, events.StreamInventory, events.StreamGDPR, events.StreamDLQ} {
				if _, err := admin.Stream(ctxT(t), stream); err != nil {
					t.Errorf("stream %s after %s's attempts: %v", stream, s.Name, err)
				}
			}
		})
	}
}

// TestReaderIdentity checks that the read-only identity reads stream
// state but publishes no event and changes no stream.
func TestReaderIdentity(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	_, admin := natstest.Connect(t, srv)
	c := connectAs(t, srv, natsauth.UserReader)
	if _, err := c.js.Stream(ctxT(t), events.StreamDLQ); err != nil {
		t.Errorf("reader: stream info: %v", err)
	}
	for _, subject := range []string{events.OrderPlacedSubject("c1"), events.SubjectErasureRequested, events.DLQSubject("email", "orders.placed.c1")} {
		if err := c.nc.Publish(subject, []byte("{}")); err != nil {
			t.Fatal(err)
		}
		c.wantViolation(t, "publish to \""+subject+"\"")
	}
	// It reads a stream through an ordered consumer of its own.
	if _, err := admin.Publish(ctxT(t), events.OrderPlacedSubject("c1"), []byte("{}")); err != nil {
		t.Fatal(err)
	}
	oc, err := c.js.OrderedConsumer(ctxT(t), events.StreamOrders, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatalf("reader: ordered consumer on ORDERS: %v", err)
	}
	if m, err := oc.Next(jetstream.FetchMaxWait(5 * time.Second)); err != nil || m.Subject() != events.OrderPlacedSubject("c1") {
		t.Errorf("reader: next = %v, %v; want the published message", m, err)
	}
	for _, api := range []string{"$JS.API.STREAM.PURGE.DLQ", "$JS.API.STREAM.DELETE.ORDERS", "$JS.API.STREAM.MSG.DELETE.DLQ",
		"$JS.API.CONSUMER.DELETE.ORDERS.email", "$JS.API.STREAM.MSG.GET.ORDERS", "$JS.ACK.ORDERS.email.1.1.1.1.0"} {
		c.request(t, api)
		c.wantViolation(t, "publish to \""+api+"\"")
	}
}

// conn is a connection as one identity that records asynchronous errors.
type conn struct {
	nc   *nats.Conn
	js   jetstream.JetStream
	errs chan error
}

func connectAs(t *testing.T, srv *stack.NATS, user string) *conn {
	t.Helper()
	c := &conn{errs: make(chan error, 100)}
	var err error
	c.nc, c.js, err = natsjs.Dial(ctxT(t), srv.UserURL(user), user, natstest.Logger(t),
		nats.RetryOnFailedConnect(false),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { c.errs <- err }))
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	t.Cleanup(c.nc.Close)
	if !c.nc.IsConnected() {
		t.Fatalf("%s not connected: %v", user, c.nc.LastError())
	}
	return c
}

// request sends a JetStream API request that the server should refuse
// (wantViolation checks that it did) without waiting for an answer.
func (c *conn) request(t *testing.T, subject string) {
	t.Helper()
	if err := c.nc.PublishRequest(subject, c.nc.NewRespInbox(), nil); err != nil {
		t.Fatal(err)
	}
}

// wantViolation waits for the server's permissions violation naming what.
func (c *conn) wantViolation(t *testing.T, what string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	var seen []string
	for {
		select {
		case err := <-c.errs:
			if errors.Is(err, nats.ErrPermissionViolation) && strings.Contains(strings.ToLower(err.Error()), strings.ToLower(what)) {
				return
			}
			seen = append(seen, err.Error())
		case <-deadline:
			t.Errorf("no permissions violation for %s; errors seen: %q", what, seen)
			return
		}
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestAccountLimits checks that the account's JetStream limits are the
// ones rendered.
func TestAccountLimits(t *testing.T) {
	t.Parallel()
	_, js := natstest.Connect(t, natstest.Start(t))
	info, err := js.AccountInfo(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	want := natsauth.DefaultLimits()
	got := info.Limits
	if got.MaxMemory != want.MaxMemory || got.MaxStore != want.MaxFile || got.MaxStreams != want.MaxStreams || got.MaxConsumers != want.MaxConsumers {
		t.Errorf("account limits %+v, want %+v", got, want)
	}
}
