package events_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
)

func TestSubjects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, got, want, filter string
	}{
		{"order placed", events.OrderPlacedSubject("c-1"), "orders.placed.c-1", events.FilterOrderPlaced},
		{"order confirmed", events.OrderConfirmedSubject("c-1"), "orders.confirmed.c-1", events.FilterOrderConfirmed},
		{"order rejected", events.OrderRejectedSubject("c-1"), "orders.rejected.c-1", events.FilterOrderRejected},
		{"inventory reserved", events.InventoryReservedSubject("c_2"), "inventory.reserved.c_2", events.FilterInventory},
		{"inventory rejected", events.InventoryRejectedSubject("c_2"), "inventory.rejected.c_2", events.FilterInventory},
		{"erasure requested", events.SubjectErasureRequested, "gdpr.erasure.requested", events.FilterErasureRequested},
		{"erasure completed", events.ErasureCompletedSubject("sms"), "gdpr.erasure.completed.sms", events.FilterErasureCompleted},
		{"dlq", events.DLQSubject("email", "orders.placed.c-1"), "dlq.email.orders.placed.c-1", "dlq.>"},
		{"escaped customer", events.OrderPlacedSubject("a.b *>%"), "orders.placed.a%2Eb%20%2A%3E%25", events.FilterOrderPlaced},
		{"empty customer", events.OrderPlacedSubject(""), "orders.placed.%", events.FilterOrderPlaced},
		{"unicode kept", events.OrderPlacedSubject("zoë"), "orders.placed.zoë", events.FilterOrderPlaced},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.got != tt.want {
				t.Fatalf("subject = %q, want %q", tt.got, tt.want)
			}
			if !matches(tt.filter, tt.got) {
				t.Errorf("filter %q does not match %q", tt.filter, tt.got)
			}
			if n := streamsMatching(tt.got); n != 1 {
				t.Errorf("%q is captured by %d streams, want 1", tt.got, n)
			}
		})
	}
}

func TestSubjectTokenInjective(t *testing.T) {
	t.Parallel()
	ids := []string{"", "%", "a.b", "a%2Eb", "a_b", "a b", "a%20b", "a*", "a>", "a\tb", "a\x7f"}
	seen := map[string]string{}
	for _, id := range ids {
		tok := events.SubjectToken(id)
		if prev, ok := seen[tok]; ok {
			t.Errorf("SubjectToken(%q) = SubjectToken(%q) = %q", id, prev, tok)
		}
		seen[tok] = id
		if tok == "" || strings.ContainsAny(tok, ". *>\t\x7f") {
			t.Errorf("SubjectToken(%q) = %q is not one valid token", id, tok)
		}
	}
}

func TestStreams(t *testing.T) {
	t.Parallel()
	streams := events.Streams(events.DefaultRetention())
	names := map[string]bool{}
	for _, s := range streams {
		names[s.Name] = true
		if s.Storage != jetstream.FileStorage || s.Retention != jetstream.LimitsPolicy {
			t.Errorf("%s: storage %v retention %v, want file and limits", s.Name, s.Storage, s.Retention)
		}
		if s.Duplicates < 10*time.Minute {
			t.Errorf("%s: duplicate window %v, want at least 10m", s.Name, s.Duplicates)
		}
	}
	for _, n := range []string{events.StreamOrders, events.StreamInventory, events.StreamGDPR, events.StreamDLQ} {
		if !names[n] {
			t.Errorf("stream %s missing", n)
		}
	}
	if streams[3].Name != events.StreamDLQ || streams[3].MaxAge != 30*24*time.Hour || streams[3].MaxBytes != 1<<30 ||
		streams[3].Discard != jetstream.DiscardNew {
		t.Errorf("DLQ stream %s MaxAge %v MaxBytes %d discard %v, want 720h, 1 GiB, new",
			streams[3].Name, streams[3].MaxAge, streams[3].MaxBytes, streams[3].Discard)
	}
	for _, s := range streams[:3] {
		if s.MaxAge != 7*24*time.Hour || s.Discard != jetstream.DiscardOld {
			t.Errorf("%s: MaxAge %v discard %v, want 168h, old", s.Name, s.MaxAge, s.Discard)
		}
	}
	custom := events.Streams(events.Retention{MaxAge: time.Hour, DLQMaxAge: 2 * time.Hour, DLQMaxBytes: 4096})
	if custom[0].MaxAge != time.Hour || custom[3].MaxAge != 2*time.Hour || custom[3].MaxBytes != 4096 || custom[0].MaxBytes != 0 {
		t.Errorf("custom retention: ORDERS MaxAge %v MaxBytes %d, DLQ MaxAge %v MaxBytes %d",
			custom[0].MaxAge, custom[0].MaxBytes, custom[3].MaxAge, custom[3].MaxBytes)
	}
	streams[0].Subjects[0] = "changed"
	if events.Streams(events.DefaultRetention())[0].Subjects[0] == "changed" {
		t.Error("Streams shares its slices between calls")
	}
}

func streamsMatching(subject string) int {
	n := 0
	for _, s := range events.Streams(events.DefaultRetention()) {
		for _, f := range s.Subjects {
			if matches(f, subject) {
				n++
			}
		}
	}
	return n
}

// matches reports whether NATS subject filter f matches subject s.
func matches(f, s string) bool {
	ft, st := strings.Split(f, "."), strings.Split(s, ".")
	for i, tok := range ft {
		if tok == ">" {
			return len(st) > i
		}
		if i >= len(st) || (tok != "*" && tok != st[i]) {
			return false
		}
	}
	return len(ft) == len(st)
}
