package main

import (
	"testing"
)

func TestRedactAddresses(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{name: "no address", in: "dial tcp 127.0.0.1:1025: connection refused", want: "dial tcp 127.0.0.1:1025: connection refused"},
		{name: "bare address", in: "550 user unknown, affected recipient(s): ada@example.com",
			want: "550 user unknown, affected recipient(s): [redacted]"},
		{name: "bracketed address", in: "550 5.1.1 <ada@example.com>: no such user",
			want: "550 5.1.1 <[redacted]>: no such user"},
		{name: "quoted", in: `rcpt "ada@example.com" refused`, want: `rcpt "[redacted]" refused`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := redactAddresses(tt.in); got != tt.want {
				t.Errorf("redactAddresses(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
