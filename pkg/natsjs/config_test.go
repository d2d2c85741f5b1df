package natsjs

import (
	"errors"
	"strings"
	"testing"
	"time"
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
			c.AckWait, c.MaxDeliver, c.Batch, c.Concurrency = -1, -1, -1, -1
		}, wantErr: []string{"ack wait", "max deliver", "batch", "concurrency"}},
		{name: "tiny ack wait", edit: func(c *ConsumerConfig) { c.AckWait = time.Millisecond }, wantErr: []string{"ack wait"}},
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
				if c.AckWait != 30*time.Second || c.MaxDeliver != 10 || c.Batch != 100 || c.Concurrency != 8 ||
					len(c.BackOff) != 6 || c.Logger == nil {
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
	c := ConsumerConfig{Stream: "ORDERS", Durable: "email", MaxDeliver: 3, Batch: 7}
	c.setDefaults()
	sc := c.serverConfig()
	if sc.MaxDeliver != 4 {
		t.Errorf("server MaxDeliver = %d, want runner's 3 + 1", sc.MaxDeliver)
	}
	if sc.MaxAckPending != 14 {
		t.Errorf("MaxAckPending = %d, want 2*Batch", sc.MaxAckPending)
	}
	if sc.Durable != "email" || sc.AckWait != 30*time.Second {
		t.Errorf("server config = %+v", sc)
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

func TestRedactURLs(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		{"nats://u:p@h:4222,nats://token@h2:4222", "nats://xxxxx@h:4222,nats://xxxxx@h2:4222"},
		{"u:p@h:4222", "xxxxx@h:4222"},
		{"nats://u:p@[::1", "nats://xxxxx@[::1"},
	}
	for _, tt := range tests {
		if got := redactURLs(tt.in); got != tt.want {
			t.Errorf("redactURLs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
