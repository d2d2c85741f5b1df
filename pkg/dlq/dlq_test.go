package dlq_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/dlq"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
)

// Four dead letters of three consumers, for the listing tests.
type sample struct {
	emailPlaced, smsPlaced, emailMalformed, inventoryPlaced uint64
	orders                                                  []original
}

func mustSample(t *testing.T, js jetstream.JetStream) sample {
	t.Helper()
	o1 := mustPlace(t, js, "c-1", "order-1")
	o2 := mustPlace(t, js, "c-2", "order-2")
	o3 := mustPlace(t, js, "c-1", "order-3")
	return sample{
		emailPlaced:     mustDeadLetter(t, js, "email", o1, "permanent", "smtp: 550 mailbox unavailable"),
		smsPlaced:       mustDeadLetter(t, js, "sms", o2, "permanent", "provider: 400 invalid number"),
		emailMalformed:  mustDeadLetter(t, js, "email", o3, "malformed", "decode payload: unexpected EOF"),
		inventoryPlaced: mustDeadLetter(t, js, "inventory", o1, "permanent", "unknown SKU"),
		orders:          []original{o1, o2, o3},
	}
}

func TestListFilters(t *testing.T) {
	t.Parallel()
	js, q := mustOpen(t)
	s := mustSample(t, js)
	all := []uint64{s.emailPlaced, s.smsPlaced, s.emailMalformed, s.inventoryPlaced}
	for _, tc := range []struct {
		filter string
		want   []uint64
	}{
		{"", all},
		{"consumer=email", []uint64{s.emailPlaced, s.emailMalformed}},
		{"consumer=nobody", nil},
		{"reason=permanent", []uint64{s.emailPlaced, s.smsPlaced, s.inventoryPlaced}},
		{"consumer=email,reason=permanent", []uint64{s.emailPlaced}},
		{"type=" + events.TypeOrderPlaced, all},
		{"type=orderbus.order.rejected.v1", nil},
		{"subject=orders.placed.c-1", []uint64{s.emailPlaced, s.emailMalformed, s.inventoryPlaced}},
		{"consumer=email,subject=orders.placed.*", []uint64{s.emailPlaced, s.emailMalformed}},
		{"subject=orders.>", all},
		{"subject=inventory.>", nil},
		{"order=order-1", []uint64{s.emailPlaced, s.inventoryPlaced}},
		{"error~550", []uint64{s.emailPlaced}},
		{"error~SKU", []uint64{s.inventoryPlaced}},
		{"error~unknown sku", []uint64{s.inventoryPlaced}},
		{"newer=1h", all},
		{"older=1h", nil},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			if got := seqs(mustList(t, q, tc.filter)); !slices.Equal(got, tc.want) {
				t.Errorf("List(%q) = %v, want %v", tc.filter, got, tc.want)
			}
		})
	}
}

func TestListEntry(t *testing.T) {
	t.Parallel()
	js, q := mustOpen(t)
	s := mustSample(t, js)
	entries := mustList(t, q, "consumer=email,reason=permanent")
	if len(entries) != 1 {
		t.Fatalf("got %d entries, want 1", len(entries))
	}
	e, o := entries[0], s.orders[0]
	want := dlq.Entry{
		Seq: s.emailPlaced, Time: e.Time, Consumer: "email", Reason: "permanent",
		Error: "smtp: 550 mailbox unavailable", Type: events.TypeOrderPlaced, ID: o.event.ID,
		OrderID: "order-1", Subject: "orders.placed.c-1", Stream: events.StreamOrders, StreamSeq: o.seq, Deliveries: 1,
	}
	if e != want {
		t.Errorf("entry\n got %+v\nwant %+v", e, want)
	}
	if e.Time.IsZero() {
		t.Error("entry has no time")
	}
	// No personal data in a listing, whatever the output form.
	out, err := json.Marshal(mustList(t, q, ""))
	if err != nil {
		t.Fatal(err)
	}
	for _, pd := range []string{customerName, customerEmail, customerPhone} {
		if strings.Contains(string(out), pd) {
			t.Errorf("listing holds personal data %q: %s", pd, out)
		}
	}
}

func TestShow(t *testing.T) {
	t.Parallel()
	js, q := mustOpen(t)
	s := mustSample(t, js)
	m, err := q.Show(t.Context(), s.smsPlaced)
	if err != nil {
		t.Fatal(err)
	}
	o := s.orders[1]
	if string(m.Data) != string(o.msg.Data) {
		t.Errorf("body %s, want %s", m.Data, o.msg.Data)
	}
	for k, want := range map[string]string{
		events.HeaderID: o.event.ID, events.HeaderType: events.TypeOrderPlaced,
		natsjs.HeaderConsumer: "sms", natsjs.HeaderReason: "permanent", natsjs.HeaderError: "provider: 400 invalid number",
	} {
		if got := m.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if m.Seq != s.smsPlaced || m.Consumer != "sms" || m.OrderID != "order-2" {
		t.Errorf("entry %+v", m.Entry)
	}
	if _, err := q.Show(t.Context(), 999); !errors.Is(err, dlq.ErrNotFound) {
		t.Errorf("Show(999) error %v, want ErrNotFound", err)
	}
}

func TestPurge(t *testing.T) {
	t.Parallel()
	js, q := mustOpen(t)
	s := mustSample(t, js)
	deleted, err := q.Purge(t.Context(), dlq.MustParseFilter("consumer=email"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := seqs(deleted), []uint64{s.emailPlaced, s.emailMalformed}; !slices.Equal(got, want) {
		t.Errorf("purged %v, want %v", got, want)
	}
	if got, want := seqs(mustList(t, q, "")), []uint64{s.smsPlaced, s.inventoryPlaced}; !slices.Equal(got, want) {
		t.Errorf("left %v, want %v", got, want)
	}
	if _, err := q.Show(t.Context(), s.emailPlaced); !errors.Is(err, dlq.ErrNotFound) {
		t.Errorf("purged dead letter still shown: %v", err)
	}
	if deleted, err := q.Purge(t.Context(), dlq.Filter{}); err != nil || len(deleted) != 2 {
		t.Errorf("purge all: %d deleted, %v; want 2", len(deleted), err)
	}
	if left := mustList(t, q, ""); len(left) != 0 {
		t.Errorf("%d left after purging all", len(left))
	}
	// The originals are untouched.
	info, err := js.Stream(t.Context(), events.StreamOrders)
	if err != nil {
		t.Fatal(err)
	}
	if n := info.CachedInfo().State.Msgs; n != 3 {
		t.Errorf("ORDERS holds %d messages, want 3", n)
	}
}

func TestOpenWithoutStream(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	nc, err := nats.Connect(natstest.URL(srv))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dlq.Open(t.Context(), js); !errors.Is(err, dlq.ErrNoStream) {
		t.Errorf("Open error %v, want ErrNoStream", err)
	}
}
