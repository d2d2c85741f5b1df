package natsjs

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func TestConsumerConfigDefaultsAndValidate(t *testing.T) {
	t.Parallel()
	valid := func() ConsumerConfig { return ConsumerConfig{Stream: "ORDERS", Durable: "email"} }
	tests := []struct {
		name    string
		edit    func(c *ConsumerConfig)
		wantErr []string
	}{
		{name: "defaults are valid", edit: func(*ConsumerConfig) {}},
		{name: "missing stream and durable", edit: func(c *ConsumerConfig) { c.Stream, c.Durable = "", "" },
			wantErr: []string{"stream is required", "durable"}},
		{name: "durable with a dot", edit: func(c *ConsumerConfig) { c.Durable = "email.v2" }, wantErr: []string{"durable"}},
		{name: "durable with a wildcard", edit: func(c *ConsumerConfig) { c.Durable = "email*" }, wantErr: []string{"durable"}},
		{name: "negative values", edit: func(c *ConsumerConfig) {
			c.AckWait, c.HandlerTimeout, c.PauseAfter, c.ProbeInterval, c.Batch, c.Concurrency = -1, -1, -1, -1, -1, -1
		}, wantErr: []string{"ack wait", "handler timeout", "pause after", "probe interval", "batch", "concurrency"}},
		{name: "tiny ack wait with no handler timeout", edit: func(c *ConsumerConfig) { c.AckWait, c.HandlerTimeout = time.Millisecond, -1 },
			wantErr: []string{"ack wait", "handler timeout"}},
		{name: "zero backoff step", edit: func(c *ConsumerConfig) { c.BackOff = []time.Duration{time.Second, 0} },
			wantErr: []string{"backoff[1]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := valid()
			tt.edit(&c)
			c.setDefaults()
			err := c.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if c.AckWait != 35*time.Second || c.HandlerTimeout != 30*time.Second || c.PauseAfter != 5 ||
					c.ProbeInterval != 2*time.Second || c.Batch != 8 || c.Concurrency != 8 ||
					len(c.BackOff) != 6 || c.Logger == nil || c.ReplayHistory {
					t.Errorf("defaults = %+v", c)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate returned nil")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	c := ConsumerConfig{BackOff: []time.Duration{time.Second, 2 * time.Second, 5 * time.Second}}
	tests := []struct {
		delivery uint64
		want     time.Duration
	}{
		{0, time.Second}, {1, time.Second}, {2, 2 * time.Second}, {3, 5 * time.Second}, {4, 5 * time.Second}, {1 << 40, 5 * time.Second},
	}
	for _, tt := range tests {
		if got := c.backoff(tt.delivery); got != tt.want {
			t.Errorf("backoff(%d) = %v, want %v", tt.delivery, got, tt.want)
		}
	}
}

func TestServerConfig(t *testing.T) {
	t.Parallel()
	c := ConsumerConfig{Stream: "ORDERS", Durable: "email", Batch: 7, AckWait: time.Minute}
	c.setDefaults()
	sc := c.serverConfig()
	if sc.MaxDeliver != -1 {
		t.Errorf("server MaxDeliver = %d, want unlimited (-1)", sc.MaxDeliver)
	}
	if sc.MaxAckPending != 7+retryWindow {
		t.Errorf("MaxAckPending = %d, want Batch + %d", sc.MaxAckPending, retryWindow)
	}
	if sc.Durable != "email" || sc.AckWait != time.Minute || sc.DeliverPolicy != jetstream.DeliverNewPolicy {
		t.Errorf("server config = %+v", sc)
	}
	c.ReplayHistory = true
	if p := c.serverConfig().DeliverPolicy; p != jetstream.DeliverAllPolicy {
		t.Errorf("deliver policy with ReplayHistory = %v, want all", p)
	}
}

// TestAckWaitAboveHandlerTimeout checks that setDefaults keeps AckWait
// above the handler's deadline, by half of it up to 5s.
func TestAckWaitAboveHandlerTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ackWait, timeout, want time.Duration
	}{
		{0, 0, 35 * time.Second},
		{time.Minute, 0, time.Minute},
		{time.Second, 400 * time.Millisecond, time.Second},
		{time.Second, time.Second, 1500 * time.Millisecond},
		{10 * time.Second, 2 * time.Minute, 2*time.Minute + 5*time.Second},
	}
	for _, tt := range tests {
		c := ConsumerConfig{AckWait: tt.ackWait, HandlerTimeout: tt.timeout}
		c.setDefaults()
		if c.AckWait != tt.want {
			t.Errorf("AckWait %v, HandlerTimeout %v: got %v, want %v", tt.ackWait, tt.timeout, c.AckWait, tt.want)
		}
	}
}

func TestPermanent(t *testing.T) {
	t.Parallel()
	base := errors.New("550 no such user")
	tests := []struct {
		name          string
		err           error
		wantPermanent bool
	}{
		{"nil stays nil", Permanent(nil), false},
		{"plain error", base, false},
		{"marked", Permanent(base), true},
		{"wrapped after marking", errors.Join(errors.New("send"), Permanent(base)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := IsPermanent(tt.err); got != tt.wantPermanent {
				t.Errorf("IsPermanent = %v, want %v", got, tt.wantPermanent)
			}
			if tt.wantPermanent && !errors.Is(tt.err, base) {
				t.Error("Permanent hides the cause from errors.Is")
			}
		})
	}
	if Permanent(nil) != nil {
		t.Error("Permanent(nil) != nil")
	}
}

func TestOneLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		limit    int
		want     string
	}{
		{"newlines become spaces", "a\nb\r\nc\td", 100, "a b  c d"},
		{"cut at limit", "abcdef", 4, "abcd"},
		{"cut on a rune boundary", "aé", 2, "a"},
		{"short kept", "ok", 10, "ok"},
	}
	for _, tt := range tests {
		if got := oneLine(tt.in, tt.limit); got != tt.want {
			t.Errorf("%s: oneLine(%q, %d) = %q, want %q", tt.name, tt.in, tt.limit, got, tt.want)
		}
	}
}
