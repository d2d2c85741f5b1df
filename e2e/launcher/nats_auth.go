package launcher

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/orderbus/orderbus/pkg/config"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsauth"
	"github.com/orderbus/orderbus/pkg/natsjs"
)

// The system's NATS runs with the orderbus identities (pkg/natsauth) and
// their published development passwords: the local nats-server through
// stack.NATSAuth, a container through deploy/nats and the same passwords
// in its environment. Each service connects as its own user.

// natsEnv returns the NATS identity variables of service: its user, its
// development password, and ORDERBUS_ENV=development, without which the
// service refuses a development password.
func natsEnv(service string) map[string]string {
	return map[string]string{
		"NATS_USER":     service,
		"NATS_PASSWORD": natsauth.DevPassword(service),
		"ORDERBUS_ENV":  config.EnvDevelopment,
	}
}

// NATSUserURL returns the system's NATS URL with the development
// credentials of user (a service, natsauth.UserReader or
// natsauth.UserAdmin): what a test or tool connects with. A client of
// nats.go must also use natsauth.InboxPrefix(user) as its inbox prefix
// (natsjs.Connect does), since the user may subscribe to nothing else.
func (s *System) NATSUserURL(user string) string {
	// A cluster's URL is a comma list (NATSCluster): each gets the credentials.
	parts := strings.Split(s.nats.URL(), ",")
	for i, p := range parts {
		u, err := url.Parse(p)
		if err != nil {
			continue
		}
		u.User = url.UserPassword(user, natsauth.DevPassword(user))
		parts[i] = u.String()
	}
	return strings.Join(parts, ",")
}

// provisionStreams creates every stream as the admin identity before the
// services start. Each service creates only the streams it manages
// (events.Service.Manages) and waits for the others, so a system running
// a subset of the services (Config.Services, or `make run` while a
// service is missing) would otherwise wait for a stream nobody creates.
func (s *System) provisionStreams(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	url := s.NATSUserURL(natsauth.UserAdmin)
	nc, js, err := natsjs.Dial(ctx, url, "orderbus-launcher", s.cfg.Logger)
	if err != nil {
		return fmt.Errorf("provision streams: %w", err)
	}
	defer nc.Close()
	for {
		err := natsjs.EnsureStreams(ctx, js, events.Streams(s.streamRetention())...)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("provision streams: %w", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
