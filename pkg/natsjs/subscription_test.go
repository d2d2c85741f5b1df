package natsjs_test

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

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

	cfg := sub.ConsumerConfig(natsjs.ConsumerSettings{Concurrency: 3, MaxDeliver: 7, BackOff: []time.Duration{time.Second}},
		time.Minute, natstest.Logger(t), nil)
	if cfg.Durable != "order-inventory" || cfg.Stream != events.StreamInventory || cfg.Concurrency != 3 ||
		cfg.MaxDeliver != 7 || cfg.AckWait != time.Minute || !slices.Equal(cfg.FilterSubjects, sub.Filters()) {
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
			want: natsjs.ConsumerSettings{Concurrency: 8, MaxDeliver: 10, BackOff: natsjs.DefaultBackOff()}},
		{name: "set", env: map[string]string{"CONSUMER_CONCURRENCY": "2", "CONSUMER_MAX_DELIVER": "50", "CONSUMER_BACKOFF": "100ms,1s"},
			want: natsjs.ConsumerSettings{Concurrency: 2, MaxDeliver: 50, BackOff: []time.Duration{100 * time.Millisecond, time.Second}}},
		{name: "zero concurrency", env: map[string]string{"CONSUMER_CONCURRENCY": "0"}, wantErr: "CONSUMER_CONCURRENCY"},
		{name: "zero deliveries", env: map[string]string{"CONSUMER_MAX_DELIVER": "0"}, wantErr: "CONSUMER_MAX_DELIVER"},
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
			if got.Concurrency != tt.want.Concurrency || got.MaxDeliver != tt.want.MaxDeliver || !slices.Equal(got.BackOff, tt.want.BackOff) {
				t.Errorf("settings = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestConsumerSettingsValidateNamesEverySetting(t *testing.T) {
	t.Parallel()
	err := natsjs.ConsumerSettings{}.Validate()
	for _, name := range []string{"CONSUMER_CONCURRENCY", "CONSUMER_MAX_DELIVER", "CONSUMER_BACKOFF"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Validate() of zero settings = %v, want it to name %s", err, name)
		}
	}
}

func TestConsumerSettingsLogValue(t *testing.T) {
	t.Parallel()
	set := natsjs.ConsumerSettings{Concurrency: 4, MaxDeliver: 7, BackOff: []time.Duration{50 * time.Millisecond, time.Second}}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", "config", slog.GroupValue(slog.Attr{Value: set.LogValue()}))
	for _, want := range []string{`"consumer_concurrency":4`, `"consumer_max_deliver":7`, `"consumer_backoff":["50ms","1s"]`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log line lacks %s: %s", want, buf.String())
		}
	}
}
