package natsjs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
)

// TestConsumerOutcomes checks how the runner settles a message for each
// kind of handler result, against a real nats-server.
func TestConsumerOutcomes(t *testing.T) {
	t.Parallel()
	errTransient := errors.New("smtp: connection refused")
	tests := []struct {
		name      string
		malformed bool   // publish without CloudEvents headers
		redrive   string // the Orderbus-Redrive-For header to publish with
		source    string // the ce-source to publish with; "" for the order service's
		handle    func(call int, m natsjs.Message) error

		wantCalls      int
		wantDeliveries uint64 // deliveries the server made
		wantOutcomes   map[string]float64
		wantDLQ        map[string]string // headers of the one DLQ copy; nil: no copy
		wantDLQError   string            // substring of Orderbus-Error
	}{
		{
			name:      "success is acked once",
			handle:    func(int, natsjs.Message) error { return nil },
			wantCalls: 1, wantDeliveries: 1,
			wantOutcomes: map[string]float64{"acked": 1},
		},
		{
			name: "transient error is retried until it succeeds",
			handle: func(call int, m natsjs.Message) error {
				if uint64(call) != m.NumDelivered {
					return natsjs.Permanent(fmt.Errorf("call %d saw NumDelivered %d", call, m.NumDelivered))
				}
				if call < 3 {
					return errTransient
				}
				return nil
			},
			wantCalls: 3, wantDeliveries: 3,
			wantOutcomes: map[string]float64{"retried": 2, "acked": 1},
		},
		{
			name:      "permanent error is dead-lettered at once",
			handle:    func(int, natsjs.Message) error { return natsjs.Permanent(errors.New("550 mailbox\nunavailable")) },
			wantCalls: 1, wantDeliveries: 1,
			wantOutcomes: map[string]float64{"dead_lettered": 1},
			wantDLQ:      map[string]string{"Orderbus-Reason": "permanent", "Orderbus-Deliveries": "1"},
			wantDLQError: "550 mailbox unavailable",
		},
		{
			name: "undecodable payload is permanent",
			handle: func(_ int, m natsjs.Message) error {
				var v struct {
					OrderID int `json:"order_id"`
				}
				return m.Event.Decode(&v)
			},
			wantCalls: 1, wantDeliveries: 1,
			wantOutcomes: map[string]float64{"dead_lettered": 1},
			wantDLQ:      map[string]string{"Orderbus-Reason": "permanent"},
			wantDLQError: "malformed event",
		},
		{
			name: "transient error never exhausts: retried far beyond 10 deliveries",
			handle: func(call int, _ natsjs.Message) error {
				if call <= 25 {
					return natsjs.Unavailable("smtp", errTransient)
				}
				return nil
			},
			wantCalls: 26, wantDeliveries: 26,
			wantOutcomes: map[string]float64{"retried": 25, "acked": 1},
		},
		{
			name: "permanent error after the deadline is retried",
			handle: func(call int, _ natsjs.Message) error {
				if call == 1 {
					time.Sleep(300 * time.Millisecond) // past the 200ms handler timeout
					return natsjs.Permanent(errors.New("refused"))
				}
				return nil
			},
			wantCalls: 2, wantDeliveries: 2,
			wantOutcomes: map[string]float64{"retried": 1, "acked": 1},
		},
		{
			name:      "redrive for another durable is acked without the handler",
			redrive:   "sms",
			handle:    func(int, natsjs.Message) error { return errors.New("must not be called") },
			wantCalls: 0, wantDeliveries: 1,
			wantOutcomes: map[string]float64{"skipped_redrive": 1},
		},
		{
			name:      "redrive for this durable is handled",
			redrive:   "email",
			handle:    func(int, natsjs.Message) error { return nil },
			wantCalls: 1, wantDeliveries: 1,
			wantOutcomes: map[string]float64{"acked": 1},
		},
		{
			name:      "malformed event is dead-lettered without calling the handler",
			malformed: true,
			handle:    func(int, natsjs.Message) error { return nil },
			wantCalls: 0, wantDeliveries: 1,
			wantOutcomes: map[string]float64{"dead_lettered": 1},
			wantDLQ:      map[string]string{"Orderbus-Reason": "malformed", "Orderbus-Deliveries": "1", "X-Original": "kept"},
			wantDLQError: "missing ce-specversion",
		},
		{
			name:      "event from another service than the subject's publisher is dead-lettered unhandled",
			source:    events.SourceOf(events.ServiceInventory),
			handle:    func(int, natsjs.Message) error { return nil },
			wantCalls: 0, wantDeliveries: 1,
			wantOutcomes: map[string]float64{"dead_lettered": 1},
			wantDLQ:      map[string]string{"Orderbus-Reason": "foreign_source", "Orderbus-Deliveries": "1"},
			wantDLQError: `ce-source "/orderbus/inventory" on orders.placed.c-1, want "/orderbus/order"`,
		},
		{
			name: "panic is retried",
			handle: func(call int, _ natsjs.Message) error {
				if call == 1 {
					panic("nil map write")
				}
				return nil
			},
			wantCalls: 2, wantDeliveries: 2,
			wantOutcomes: map[string]float64{"retried": 1, "acked": 1},
		},
		{
			name: "panics keep being retried",
			handle: func(call int, _ natsjs.Message) error {
				if call <= 12 {
					panic("nil map write")
				}
				return nil
			},
			wantCalls: 13, wantDeliveries: 13,
			wantOutcomes: map[string]float64{"retried": 12, "acked": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := natstest.Start(t)
			_, js := natstest.Connect(t, srv)
			reg := prometheus.NewRegistry()
			rec := &recorder{fn: tt.handle}
			runConsumer(t, js, natsjs.ConsumerConfig{
				Stream: events.StreamOrders, Durable: "email", FilterSubjects: []string{events.FilterOrderPlaced},
				Metrics: reg, HandlerTimeout: 200 * time.Millisecond, PauseAfter: 100,
				BackOff: []time.Duration{10 * time.Millisecond, 20 * time.Millisecond},
			}, rec.handle)

			var seq uint64
			var body []byte
			if tt.malformed {
				body = []byte(`{"order_id":"o-1"}`)
				msg := &nats.Msg{Subject: events.OrderPlacedSubject("c-1"), Data: body,
					Header: nats.Header{"X-Original": {"kept"}}}
				ack, err := js.PublishMsg(ctxT(t), msg)
				if err != nil {
					t.Fatalf("publish: %v", err)
				}
				seq = ack.Sequence
			} else {
				ev := newEvent(t, "c-1")
				body = ev.Data
				h := ev.Header()
				if tt.redrive != "" {
					h.Set(natsjs.HeaderRedriveFor, tt.redrive)
				}
				if tt.source != "" {
					h.Set(events.HeaderSource, tt.source)
				}
				ack, err := js.PublishMsg(ctxT(t), &nats.Msg{Subject: events.OrderPlacedSubject("c-1"), Header: h, Data: ev.Data})
				if err != nil {
					t.Fatalf("publish: %v", err)
				}
				seq = ack.Sequence
			}

			info := waitSettled(t, js, "email", seq)
			if got := len(rec.snapshot()); got != tt.wantCalls {
				t.Errorf("handler calls = %d, want %d", got, tt.wantCalls)
			}
			if info.Delivered.Consumer != tt.wantDeliveries {
				t.Errorf("deliveries = %d, want %d", info.Delivered.Consumer, tt.wantDeliveries)
			}
			waitFor(t, 5*time.Second, "outcome metrics", func() (bool, string) {
				seen := map[string]float64{}
				for _, o := range []string{"acked", "retried", "dead_lettered", "dead_letter_failed", "released", "skipped_redrive"} {
					if v := counter(t, reg, "orderbus_consumer_messages_total", map[string]string{"durable": "email", "outcome": o}); v > 0 {
						seen[o] = v
					}
				}
				return fmt.Sprint(seen) == fmt.Sprint(tt.wantOutcomes), fmt.Sprint(seen)
			})

			dlq := dlqMessages(t, js)
			if tt.wantDLQ == nil {
				if len(dlq) != 0 {
					t.Fatalf("DLQ holds %d messages, want none", len(dlq))
				}
				return
			}
			if len(dlq) != 1 {
				t.Fatalf("DLQ holds %d messages, want 1", len(dlq))
			}
			d := dlq[0]
			if want := "dlq.email.orders.placed.c-1"; d.Subject != want {
				t.Errorf("DLQ subject = %q, want %q", d.Subject, want)
			}
			want := map[string]string{"Orderbus-Stream": events.StreamOrders, "Orderbus-Consumer": "email",
				"Orderbus-Stream-Seq": fmt.Sprint(seq), "Nats-Msg-Id": fmt.Sprintf("dlq:email:ORDERS:%d", seq)}
			for k, v := range tt.wantDLQ {
				want[k] = v
			}
			if !tt.malformed {
				want["Content-Type"] = "application/json"
				want["ce-type"] = events.TypeOrderPlaced
			}
			for k, v := range want {
				if got := d.Header.Get(k); got != v {
					t.Errorf("DLQ header %s = %q, want %q", k, got, v)
				}
			}
			if got := d.Header.Get("Orderbus-Error"); !strings.Contains(got, tt.wantDLQError) {
				t.Errorf("DLQ Orderbus-Error = %q, want it to contain %q", got, tt.wantDLQError)
			}
			if string(d.Data) != string(body) {
				t.Errorf("DLQ body = %s, want the original", d.Data)
			}
		})
	}
}

// TestConsumerBoundsConcurrency checks that at most Concurrency handlers
// run at once, that they do run in parallel, and that all messages are acked.
func TestConsumerBoundsConcurrency(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	const concurrency, total = 4, 20
	var running, peak, done atomic.Int64
	h := func(context.Context, natsjs.Message) error {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(50 * time.Millisecond) // simulated work, so handlers overlap
		running.Add(-1)
		done.Add(1)
		return nil
	}
	runConsumer(t, js, natsjs.ConsumerConfig{Stream: events.StreamOrders, Durable: "sms",
		Batch: 8, Concurrency: concurrency}, h)
	var last uint64
	for i := range total {
		last = publish(t, js, newEvent(t, fmt.Sprint("c", i)))
	}
	waitSettled(t, js, "sms", last)
	if got := done.Load(); got != total {
		t.Errorf("handled %d messages, want %d", got, total)
	}
	if got := peak.Load(); got != concurrency {
		t.Errorf("peak concurrent handlers = %d, want %d", got, concurrency)
	}
}

// TestConsumersShareRegistry checks that two consumers can report to one
// registry, each under its durable label.
func TestConsumersShareRegistry(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	reg := prometheus.NewRegistry()
	for _, durable := range []string{"email", "sms"} {
		runConsumer(t, js, natsjs.ConsumerConfig{Stream: events.StreamOrders, Durable: durable, Metrics: reg},
			func(context.Context, natsjs.Message) error { return nil })
	}
	seq := publish(t, js, newEvent(t, "c-1"))
	for _, durable := range []string{"email", "sms"} {
		waitSettled(t, js, durable, seq)
		waitFor(t, 5*time.Second, durable+" acked metric", func() (bool, string) {
			v := counter(t, reg, "orderbus_consumer_messages_total", map[string]string{"durable": durable, "outcome": "acked"})
			return v == 1, fmt.Sprint(v)
		})
	}
}

// TestNewConsumerRejects checks the errors NewConsumer returns before
// touching the server state.
func TestNewConsumerRejects(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	ok := func(context.Context, natsjs.Message) error { return nil }
	tests := []struct {
		name    string
		cfg     natsjs.ConsumerConfig
		h       natsjs.Handler
		wantErr string
	}{
		{"no stream", natsjs.ConsumerConfig{Durable: "d"}, ok, "stream is required"},
		{"dotted durable", natsjs.ConsumerConfig{Stream: events.StreamOrders, Durable: "a.b"}, ok, "durable"},
		{"nil handler", natsjs.ConsumerConfig{Stream: events.StreamOrders, Durable: "d"}, nil, "handler is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := natsjs.NewConsumer(ctxT(t), js, tt.cfg, tt.h)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("NewConsumer error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	t.Run("server settings", func(t *testing.T) {
		t.Parallel()
		_, err := natsjs.NewConsumer(ctxT(t), js, natsjs.ConsumerConfig{Stream: events.StreamOrders, Durable: "inventory",
			FilterSubjects: []string{events.FilterOrderPlaced}, Batch: 10}, ok)
		if err != nil {
			t.Fatalf("NewConsumer: %v", err)
		}
		cfg := consumerInfo(t, js, events.StreamOrders, "inventory").Config
		if cfg.AckPolicy != jetstream.AckExplicitPolicy || cfg.MaxDeliver != -1 || cfg.MaxAckPending != 1010 ||
			cfg.AckWait != 35*time.Second || len(cfg.FilterSubjects) != 1 || cfg.DeliverPolicy != jetstream.DeliverNewPolicy {
			t.Errorf("server config = ack %v, max deliver %d, max ack pending %d, ack wait %v, filters %v, deliver %v",
				cfg.AckPolicy, cfg.MaxDeliver, cfg.MaxAckPending, cfg.AckWait, cfg.FilterSubjects, cfg.DeliverPolicy)
		}
	})
}
