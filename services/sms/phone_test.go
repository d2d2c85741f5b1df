package main

import "testing"

func TestMaskPhone(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{name: "uk mobile", in: "+447700900961", want: "+44*******961"},
		{name: "us number", in: "+15005550006", want: "+15******006"},
		{name: "longest E.164", in: "+123456789012345", want: "+12**********345"},
		{name: "eleven characters", in: "+1234567890", want: "+12*****890"},
		{name: "shortest shown in part", in: "+123456789", want: "+12****789"},
		{name: "too short to show any", in: "+12345678", want: "+********"},
		{name: "tiny", in: "+12", want: "+**"},
		{name: "no plus", in: "1234", want: "****"},
		{name: "empty", in: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := maskPhone(tt.in); got != tt.want {
				t.Errorf("maskPhone(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactPhones(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{name: "none", in: "dial tcp 127.0.0.1:80: connection refused", want: "dial tcp 127.0.0.1:80: connection refused"},
		{name: "twilio message", in: "The 'To' number +15005550001 is not a valid phone number.",
			want: "The 'To' number +15******001 is not a valid phone number."},
		{name: "two numbers", in: "+447700900961,+447700900962", want: "+44*******961,+44*******962"},
		{name: "short plus digits kept", in: "retry in +30000 ms", want: "retry in +30000 ms"},
		{name: "trailing plus", in: "a+", want: "a+"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := redactPhones(tt.in); got != tt.want {
				t.Errorf("redactPhones(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestOrderReceivedText(t *testing.T) {
	t.Parallel()
	const id = "0193ab12-3456-7abc-8def-0123456789ab"
	tests := []struct {
		name  string
		items int
		want  string
	}{
		{name: "one", items: 1, want: "Order " + id + " received, 1 item"},
		{name: "many", items: 3, want: "Order " + id + " received, 3 items"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := orderReceivedText(id, tt.items)
			if got != tt.want {
				t.Errorf("orderReceivedText = %q, want %q", got, tt.want)
			}
			if len(got) > 160 {
				t.Errorf("text is %d characters, more than one SMS segment", len(got))
			}
		})
	}
}
