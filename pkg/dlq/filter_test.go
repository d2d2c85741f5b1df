package dlq

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseFilter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Filter
	}{
		{"", Filter{}},
		{"  ", Filter{}},
		{"consumer=email", Filter{Consumer: "email"}},
		{"consumer=email,reason=permanent,type=orderbus.order.placed.v1,older=1h,subject=orders.placed.*",
			Filter{Consumer: "email", Reason: "permanent", Type: "orderbus.order.placed.v1", Older: time.Hour, Subject: "orders.placed.*"}},
		{" consumer = email , order=0190-ab ", Filter{Consumer: "email", OrderID: "0190-ab"}},
		{"error~550 mailbox", Filter{ErrorContains: "550 mailbox"}},
		{"error~a=b", Filter{ErrorContains: "a=b"}},
		{"newer=7d", Filter{Newer: 7 * 24 * time.Hour}},
		{"newer=1d12h,older=90s", Filter{Newer: 36 * time.Hour, Older: 90 * time.Second}},
		{"subject=>", Filter{Subject: ">"}},
		{"subject=orders.*.c-1", Filter{Subject: "orders.*.c-1"}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseFilter(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("ParseFilter(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
			if again, err := ParseFilter(got.String()); err != nil || again != got {
				t.Errorf("ParseFilter(%q) = %+v, %v; want %+v", got.String(), again, err, got)
			}
		})
	}
}

func TestParseFilterErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, mention string }{
		{"consumer", "want key=value"},
		{"customer=c-1", "unknown key"},
		{"consumer=", "empty value"},
		{"consumer=email,consumer=sms", "twice"},
		{"consumer=email,", "empty condition"},
		{"consumer=a.b", "durable name"},
		{"consumer~email", "takes ="},
		{"error=timeout", "takes ~"},
		{"reason=Permanent", "lower-case"},
		{"subject=orders..x", "empty token"},
		{"subject=orders.>.x", "last token"},
		{"subject=orders.pl*", "whole tokens"},
		{"type=a b", "space"},
		{"older=1 hour", "space"},
		{"older=soon", "invalid duration"},
		{"older=-1h", "negative"},
		{"older=0s", "positive"},
		{"newer=99999999d", "too long"},
		{"newer=1h,older=2h", "matches nothing"},
		{"order=\x01", "control character"},
		{"order=\xff", "UTF-8"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := ParseFilter(tc.in)
			if !errors.Is(err, ErrBadFilter) {
				t.Fatalf("ParseFilter(%q) error %v, want ErrBadFilter", tc.in, err)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("ParseFilter(%q) error %q does not say %q", tc.in, err, tc.mention)
			}
		})
	}
}

func TestFilterMatch(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	e := Entry{
		Time: now.Add(-2 * time.Hour), Consumer: "email", Reason: "permanent", Error: "SMTP 550 Mailbox unavailable",
		Type: "orderbus.order.placed.v1", OrderID: "o-1", Subject: "orders.placed.c-1",
	}
	for _, tc := range []struct {
		filter string
		want   bool
	}{
		{"", true},
		{"consumer=email,reason=permanent,type=orderbus.order.placed.v1,order=o-1", true},
		{"consumer=sms", false},
		{"reason=malformed", false},
		{"type=orderbus.order.rejected.v1", false},
		{"order=o-2", false},
		{"subject=orders.placed.*", true},
		{"subject=orders.>", true},
		{"subject=orders.placed", false},
		{"subject=orders.placed.c-1.x", false},
		{"subject=*.*.c-2", false},
		{"error~mailbox UNAVAILABLE", true},
		{"error~timeout", false},
		{"older=1h", true},
		{"older=2h", true},
		{"older=3h", false},
		{"newer=3h", true},
		{"newer=2h", false},
		{"newer=3h,older=1h", true},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			if got := MustParseFilter(tc.filter).Match(e, now); got != tc.want {
				t.Errorf("Match = %t, want %t", got, tc.want)
			}
		})
	}
}

func TestStreamFilter(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                                 "dlq.*.>",
		"consumer=email":                   "dlq.email.>",
		"subject=orders.placed.*":          "dlq.*.orders.placed.*",
		"consumer=sms,subject=orders.>":    "dlq.sms.orders.>",
		"consumer=50%,reason=permanent":    "dlq.50%25.>",
		"order=o-1,error~x,newer=1h":       "dlq.*.>",
		"consumer=email,subject=inventory": "dlq.email.inventory",
	} {
		if got := MustParseFilter(in).streamFilter(); got != want {
			t.Errorf("streamFilter of %q = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, seed := range []string{
		"",
		"consumer=email,reason=permanent,type=orderbus.order.placed.v1,older=1h,subject=orders.placed.*",
		"error~550 mailbox, order=abc",
		"newer=1d12h,older=90s",
		"subject=orders.>",
		"consumer=email,consumer=sms",
		"older=-1h",
		"=,~",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseFilter(s)
		if err != nil {
			if !errors.Is(err, ErrBadFilter) {
				t.Fatalf("ParseFilter(%q) error %v does not wrap ErrBadFilter", s, err)
			}
			return
		}
		text := got.String()
		again, err := ParseFilter(text)
		if err != nil {
			t.Fatalf("ParseFilter(%q) = %+v, but its String %q does not parse: %v", s, got, text, err)
		}
		if again != got {
			t.Fatalf("round trip of %q through %q: %+v, want %+v", s, text, again, got)
		}
		if validSubjectFilter(got.streamFilter()) != nil {
			t.Fatalf("filter %q gives the invalid stream filter %q", s, got.streamFilter())
		}
	})
}
