package natsjs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/config"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsauth"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
)

// TestAuth checks that a service connects with NATS_USER/NATS_PASSWORD or
// with the user in its URL, reading replies on its own inbox either way,
// and that an unreadable TLS or seed file fails Connect.
func TestAuth(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	user := events.ServiceSMS
	for name, dial := range map[string]func() (string, []config.NATSAuth){
		"user and password": func() (string, []config.NATSAuth) {
			return srv.URL(), []config.NATSAuth{{User: user, Password: srv.Password(user)}}
		},
		"in the url": func() (string, []config.NATSAuth) { return srv.UserURL(user), nil },
	} {
		url, auth := dial()
		var a config.NATSAuth
		if len(auth) > 0 {
			a = auth[0]
		}
		nc, err := natsjs.Connect(ctxT(t), url, t.Name(), natstest.Logger(t), natsjs.Auth(a)...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		waitFor(t, 10*time.Second, name+": connected", func() (bool, string) { return nc.IsConnected(), nc.Status().String() })
		if inbox := nc.NewRespInbox(); !strings.HasPrefix(inbox, natsauth.InboxPrefix(user)+".") {
			t.Errorf("%s: reply inbox %s, want under %s", name, inbox, natsauth.InboxPrefix(user))
		}
		nc.Close()
	}
	for name, a := range map[string]config.NATSAuth{
		"missing CA file":   {TLSCAFile: "/nonexistent/ca.pem"},
		"missing seed file": {NKeySeedFile: "/nonexistent/seed"},
	} {
		if nc, err := natsjs.Connect(ctxT(t), srv.URL(), t.Name(), natstest.Logger(t), natsjs.Auth(a)...); err == nil {
			nc.Close()
			t.Errorf("%s: Connect succeeded, want an error", name)
		}
	}
}
