package natsjs

import (
	"context"
	"fmt"
	"log/slog"
	neturl "net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/config"
)

// reconnectWait is the pause between reconnect attempts (nats.go adds jitter).
const reconnectWait = time.Second

// Connect dials the NATS server(s) at url (a comma-separated list is
// allowed) with the connection name name, and keeps reconnecting forever
// (RetryOnFailedConnect, MaxReconnects(-1)): it returns a usable connection
// even when no server is up yet, and publishes made while disconnected are
// buffered. Disconnects are logged at warn, (re)connects at info, without
// credentials. ctx is only checked before dialing; the connection outlives
// it and the caller must Drain or Close it. It returns an error only for an
// invalid url or option, or when ctx is already done. opts add to
// these options: credentials (Auth), say. A connection with a user name
// (in opts or url) gets that user's reply inbox prefix
// (natsauth.InboxPrefix), the only inbox the orderbus permissions let it
// read.
func Connect(ctx context.Context, url, name string, logger *slog.Logger, opts ...nats.Option) (*nats.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("connect nats: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("nats_name", name)
	for _, u := range strings.Split(url, ",") {
		// Checked here because nats.go's parse error would quote the
		// password. Like nats.go, accept host:port without a scheme.
		if u = strings.TrimSpace(u); !strings.Contains(u, "://") {
			u = "nats://" + u
		}
		if _, err := neturl.Parse(u); err != nil {
			return nil, fmt.Errorf("connect nats %s: invalid url", config.MaskUserInfo(url))
		}
	}
	if inbox := InboxOption(url, opts); inbox != nil {
		opts = append(opts, inbox)
	}
	nc, err := nats.Connect(url, append([]nats.Option{
		nats.Name(name),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(reconnectWait),
		nats.ConnectHandler(func(nc *nats.Conn) {
			logger.Info("nats connected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if err == nil || nc.IsClosed() {
				logger.Info("nats connection closing")
				return
			}
			logger.Warn("nats disconnected; reconnecting", "error", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			logger.Info("nats reconnected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ClosedHandler(func(*nats.Conn) {
			logger.Info("nats connection closed")
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			if sub != nil {
				logger.Warn("nats asynchronous error", "error", err, "subject", sub.Subject)
				return
			}
			logger.Warn("nats asynchronous error", "error", err)
		}),
	}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("connect nats %s: %w", config.MaskUserInfo(url), err)
	}
	if !nc.IsConnected() {
		logger.Warn("nats not reachable yet; retrying in the background", "url", config.MaskUserInfo(url))
	}
	return nc, nil
}

// asyncAckTimeout ends the wait of a Publisher.PublishAsync whose PubAck
// never comes, so that its bookkeeping does not grow without bound; the
// callers wait less (Pending.Wait's context).
const asyncAckTimeout = 30 * time.Second

// Dial is Connect followed by jetstream.New: it returns the connection
// and its JetStream handle, which is what a service publishing or
// consuming events starts with. Like Connect it does not wait for the
// server. It returns Connect's error as is, or jetstream.New's wrapped
// with the redacted url, closing the connection in that case. The caller
// must Drain or Close the connection. opts are Connect's.
func Dial(ctx context.Context, url, name string, logger *slog.Logger, opts ...nats.Option) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := Connect(ctx, url, name, logger, opts...)
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(asyncAckTimeout))
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("jetstream context for %s: %w", config.MaskUserInfo(url), err)
	}
	return nc, js, nil
}
