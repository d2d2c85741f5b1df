package natsjs_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderbus/orderbus/pkg/config"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
)

func TestSubscriptionDispatch(t *testing.T) {
	t.Parallel()
	var got []string
	handle := func(name string) natsjs.Handler {
		return func(context.Context, natsjs.Message) error { got = append(got, name); return nil }
	}
	sub := natsjs.Subscription{
		Stream: events.StreamInventory, Durable: "order-inventory",
		Routes: []natsjs.Route{
			{Filter: events.FilterInventory, Type: events.TypeInventoryReserved, Handler: handle("reserved")},
			{Filter: events.FilterInventory, Type: events.TypeInventoryRejected, Handler: handle("rejected")},
		},
	}
	if f := sub.Filters(); !slices.Equal(f, []string{events.FilterInventory}) {
		t.Errorf("Filters() = %v, want the shared filter once", f)
	}
	h := sub.Handler()
	for _, typ := range []string{events.TypeInventoryRejected, events.TypeInventoryReserved} {
		if err := h(t.Context(), natsjs.Message{Event: events.Event{Type: typ}}); err != nil {
			t.Fatalf("dispatch %s: %v", typ, err)
		}
	}
	if !slices.Equal(got, []string{"rejected", "reserved"}) {
		t.Errorf("handlers called = %v, want rejected then reserved", got)
	}
	err := h(t.Context(), natsjs.Message{Event: events.Event{Type: "orderbus.unknown.v1"}, Subject: "inventory.x.c"})
	if !natsjs.IsPermanent(err) || !strings.Contains(err.Error(), "orderbus.unknown.v1") {
		t.Errorf("unknown type: error %v, want a permanent error naming the type", err)
	}

	cfg := sub.ConsumerConfig(natsjs.ConsumerSettings{Concurrency: 3, PauseAfter: 7, HandlerTimeout: 9 * time.Second,
		ProbeInterval: 3 * time.Second, Start: "all", BackOff: []time.Duration{time.Second}},
		time.Minute, natstest.Logger(t), nil)
	if cfg.Durable != "order-inventory" || cfg.Stream != events.StreamInventory || cfg.Concurrency != 3 ||
		cfg.PauseAfter != 7 || cfg.HandlerTimeout != 9*time.Second || cfg.ProbeInterval != 3*time.Second ||
		!cfg.ReplayHistory || cfg.AckWait != time.Minute || !slices.Equal(cfg.FilterSubjects, sub.Filters()) {
		t.Errorf("ConsumerConfig = %+v", cfg)
	}
}

func TestConsumerSettings(t *testing.T) {
	t.Parallel()
	type serviceConfig struct {
		natsjs.ConsumerSettings
		Other string `env:"OTHER"`
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    natsjs.ConsumerSettings
		wantErr string
	}{
		{name: "defaults", env: map[string]string{},
			want: natsjs.ConsumerSettings{Concurrency: 8, BackOff: natsjs.DefaultBackOff(), HandlerTimeout: 30 * time.Second,
				PauseAfter: 5, ProbeInterval: 2 * time.Second, Start: "new"}},
		{name: "set", env: map[string]string{"CONSUMER_CONCURRENCY": "2", "CONSUMER_PAUSE_AFTER": "50", "CONSUMER_BACKOFF": "100ms,1s",
			"CONSUMER_HANDLER_TIMEOUT": "3s", "CONSUMER_PROBE_INTERVAL": "250ms", "CONSUMER_START": "all"},
			want: natsjs.ConsumerSettings{Concurrency: 2, PauseAfter: 50, BackOff: []time.Duration{100 * time.Millisecond, time.Second},
				HandlerTimeout: 3 * time.Second, ProbeInterval: 250 * time.Millisecond, Start: "all"}},
		{name: "zero concurrency", env: map[string]string{"CONSUMER_CONCURRENCY": "0"}, wantErr: "CONSUMER_CONCURRENCY"},
		{name: "zero pause after", env: map[string]string{"CONSUMER_PAUSE_AFTER": "0"}, wantErr: "CONSUMER_PAUSE_AFTER"},
		{name: "zero handler timeout", env: map[string]string{"CONSUMER_HANDLER_TIMEOUT": "0s"}, wantErr: "CONSUMER_HANDLER_TIMEOUT"},
		{name: "unknown start", env: map[string]string{"CONSUMER_START": "first"}, wantErr: "CONSUMER_START"},
		{name: "negative backoff", env: map[string]string{"CONSUMER_BACKOFF": "1s,-1s"}, wantErr: "CONSUMER_BACKOFF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Load[serviceConfig](func(k string) string { return tt.env[k] })
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			err = cfg.Validate()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Validate() = %v, want an error naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate() = %v", err)
			}
			got := cfg.ConsumerSettings
			if got.Concurrency != tt.want.Concurrency || got.PauseAfter != tt.want.PauseAfter || !slices.Equal(got.BackOff, tt.want.BackOff) ||
				got.HandlerTimeout != tt.want.HandlerTimeout || got.ProbeInterval != tt.want.ProbeInterval || got.Start != tt.want.Start {
				t.Errorf("settings = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestConsumerSettingsValidateNamesEverySetting(t *testing.T) {
	t.Parallel()
	err := natsjs.ConsumerSettings{}.Validate()
	for _, name := range []string{"CONSUMER_CONCURRENCY", "CONSUMER_PAUSE_AFTER", "CONSUMER_HANDLER_TIMEOUT",
		"CONSUMER_PROBE_INTERVAL", "CONSUMER_START", "CONSUMER_BACKOFF"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Validate() of zero settings = %v, want it to name %s", err, name)
		}
	}
}

func TestConsumerSettingsLogValue(t *testing.T) {
	t.Parallel()
	set := natsjs.ConsumerSettings{Concurrency: 4, PauseAfter: 7, HandlerTimeout: 3 * time.Second, ProbeInterval: time.Second,
		Start: "new", BackOff: []time.Duration{50 * time.Millisecond, time.Second}}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", "config", slog.GroupValue(slog.Attr{Value: set.LogValue()}))
	for _, want := range []string{`"consumer_concurrency":4`, `"consumer_pause_after":7`, `"consumer_handler_timeout":"3s"`,
		`"consumer_probe_interval":"1s"`, `"consumer_start":"new"`, `"consumer_backoff":["50ms","1s"]`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log line lacks %s: %s", want, buf.String())
		}
	}
}

// TestNewConsumers creates the consumers of a service's subscriptions on
// a real server: each with its settings, in the order of the
// subscriptions, and with its subscription's handler.
func TestNewConsumers(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	set := natsjs.ConsumerSettings{Concurrency: 2, PauseAfter: 4, BackOff: []time.Duration{time.Second}}
	sub := func(durable, filter, typ string, rec *recorder) natsjs.Subscription {
		return natsjs.Subscription{Stream: events.StreamOrders, Durable: durable,
			Routes: []natsjs.Route{{Filter: filter, Type: typ, Handler: rec.handle}}}
	}
	placed, rejected := &recorder{}, &recorder{}
	tests := []struct {
		name    string
		subs    []natsjs.Subscription
		set     natsjs.ConsumerSettings
		wantErr string
	}{
		{
			name: "one per subscription, in order",
			subs: []natsjs.Subscription{
				sub("nc-placed", events.FilterOrderPlaced, events.TypeOrderPlaced, placed),
				sub("nc-rejected", events.FilterOrderRejected, events.TypeOrderRejected, rejected),
			},
			set: set,
		},
		{name: "no subscriptions", set: set},
		{
			name:    "invalid settings",
			subs:    []natsjs.Subscription{sub("nc-invalid", events.FilterOrderPlaced, events.TypeOrderPlaced, &recorder{})},
			set:     natsjs.ConsumerSettings{Concurrency: 2, PauseAfter: -1},
			wantErr: "nc-invalid",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg := prometheus.NewRegistry()
			consumers, err := natsjs.NewConsumers(ctxT(t), js, tt.subs, tt.set, time.Minute, natstest.Logger(t), reg, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewConsumers error = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewConsumers: %v", err)
			}
			if len(consumers) != len(tt.subs) {
				t.Fatalf("got %d consumers, want %d", len(consumers), len(tt.subs))
			}
			for i, s := range tt.subs {
				if !consumers[i].Created() {
					t.Errorf("consumer %s not created", s.Durable)
				}
				info := consumerInfo(t, js, s.Stream, s.Durable)
				if info.Config.AckWait != time.Minute || info.Config.MaxDeliver != -1 ||
					!slices.Equal(info.Config.FilterSubjects, s.Filters()) {
					t.Errorf("consumer %s: ack wait %v, max deliver %d, filters %v; want 1m0s, -1, %v", s.Durable,
						info.Config.AckWait, info.Config.MaxDeliver, info.Config.FilterSubjects, s.Filters())
				}
			}
			if len(consumers) == 0 {
				return
			}
			// The first consumer is the first subscription's: it hands an
			// orders.placed event to that subscription's handler.
			ctx, stop := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- consumers[0].Run(ctx) }()
			publish(t, js, newEvent(t, "c-1"))
			waitFor(t, 20*time.Second, "the event to be handled", func() (bool, string) {
				n := len(placed.snapshot())
				return n == 1, fmt.Sprintf("handled %d", n)
			})
			stop()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			if got := counter(t, reg, "orderbus_consumer_messages_total", map[string]string{"durable": "nc-placed"}); got != 1 {
				t.Errorf("messages of nc-placed in the registry = %v, want 1", got)
			}
		})
	}
}
