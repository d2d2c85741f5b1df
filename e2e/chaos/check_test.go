package chaos

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// world is a consistent snapshot of three orders, the last one rejected
// for lack of stock, built by hand.
func world() (Expectation, Snapshot) {
	exp := Expectation{
		Accepted: []Placed{
			{OrderID: "o1", Key: "k1", CustomerID: "c1", Email: "c1@example.com", Items: []Item{{"A", 1}, {"B", 2}}},
			{OrderID: "o2", Key: "k2", CustomerID: "c1", Email: "c1@example.com", Items: []Item{{"A", 1}}},
			{OrderID: "o3", Key: "k3", CustomerID: "c2", Email: "c2@example.com", Items: []Item{{"A", 1}}},
		},
		InitialStock: map[string]int{"A": 2, "B": 5},
		Rejections:   1,
	}
	snap := Snapshot{
		Orders:       []OrderRow{{"o1", "c1", "confirmed"}, {"o2", "c1", "confirmed"}, {"o3", "c2", "rejected"}},
		Reservations: []ReservationRow{{"o1", "reserved"}, {"o2", "reserved"}, {"o3", "rejected"}},
		Lines:        []LineRow{{"o1", "A", 1}, {"o1", "B", 2}, {"o2", "A", 1}},
		Stock:        map[string]int{"A": 0, "B": 3},
		Mails: []MailRow{
			{"o1", KindReceipt, "e1@x", "c1@example.com", "sent"},
			{"o2", KindReceipt, "e2@x", "c1@example.com", "sent"},
			{"o3", KindReceipt, "e3@x", "c2@example.com", "sent"},
			{"o3", KindApology, "r3@x", "c2@example.com", "sent"},
		},
		Texts: []TextRow{{"o1", "sent"}, {"o2", "sent"}, {"o3", "sent"}},
		Caught: []CaughtMail{
			{"e1@x", []string{"c1@example.com"}, "Your orderbus order o1 is received"},
			{"e2@x", []string{"c1@example.com"}, "Your orderbus order o2 is received"},
			{"e3@x", []string{"c2@example.com"}, "Your orderbus order o3 is received"},
			{"r3@x", []string{"c2@example.com"}, "Sorry, your orderbus order o3 could not be fulfilled"},
		},
		Outboxes: map[string]int{"order": 0, "inventory": 0},
		Consumers: []ConsumerState{
			{Stream: "ORDERS", Durable: "email"}, {Stream: "ORDERS", Durable: "sms"},
			{Stream: "ORDERS", Durable: "inventory"}, {Stream: "INVENTORY", Durable: "order-inventory"},
		},
	}
	return exp, snap
}

func effect(t *testing.T, r *Report, name string) Effect {
	t.Helper()
	i := slices.IndexFunc(r.Effects, func(e Effect) bool { return e.Name == name })
	if i < 0 {
		t.Fatalf("no effect %q in %v", name, r.Effects)
	}
	return r.Effects[i]
}

func TestCheckPassesAConsistentWorld(t *testing.T) {
	t.Parallel()
	exp, snap := world()
	r := Check(exp, snap)
	if !r.OK() {
		t.Fatalf("findings on a consistent world: %v", r.Findings)
	}
	if e := effect(t, r, "apology mail (catcher)"); e.Expected != 1 || e.Applied != 1 {
		t.Errorf("apology mail %+v, want 1 expected, 1 applied", e)
	}
	var out bytes.Buffer
	r.Print(&out)
	if !strings.Contains(out.String(), "checker: PASS") {
		t.Errorf("printed report lacks the verdict:\n%s", out.String())
	}
}

// Each case breaks the consistent world in one way; the checker must
// count it in the named effect's column and fail with a finding naming it.
func TestCheckFindsEachDeviation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		edit    func(*Expectation, *Snapshot)
		effect  string
		column  func(Effect) int // the column that must count 1; nil: none does
		finding string
		pass    bool // a deviation that is reported but allowed
	}{
		{
			name:   "lost order row",
			edit:   func(_ *Expectation, s *Snapshot) { s.Orders = s.Orders[1:] },
			effect: "order row", column: lost, finding: "order row lost: 1 (o1)",
		},
		{
			name: "unexpected order row",
			edit: func(_ *Expectation, s *Snapshot) {
				s.Orders = append(s.Orders, OrderRow{"o9", "c9", "confirmed"})
			},
			effect: "order row", column: unexpected, finding: "order row unexpected: 1 (o9)",
		},
		{
			name:   "pending order",
			edit:   func(_ *Expectation, s *Snapshot) { s.Orders[0].Status = "pending" },
			effect: "order decided (not pending)", column: lost, finding: "order decided (not pending) lost: 1 (o1)",
		},
		{
			name:   "lost reservation",
			edit:   func(_ *Expectation, s *Snapshot) { s.Reservations = s.Reservations[:2] },
			effect: "reservation decision", column: lost, finding: "reservation decision lost: 1 (o3)",
		},
		{
			name:   "status against its reservation",
			edit:   func(_ *Expectation, s *Snapshot) { s.Orders[1].Status = "rejected" },
			effect: "order rejected (stock short)", column: unexpected,
			finding: "order status differs from its reservation decision: 1 (o2)",
		},
		{
			name:    "stock taken twice",
			edit:    func(_ *Expectation, s *Snapshot) { s.Stock["B"] = 1 },
			effect:  "order row",
			finding: "stock of B: 1 available, want 3",
		},
		{
			name: "duplicate receipt row",
			edit: func(_ *Expectation, s *Snapshot) {
				s.Mails = append(s.Mails, MailRow{"o2", KindReceipt, "e2b@x", "c1@example.com", "sent"})
			},
			effect: "receipt row (email db)", column: duplicated, finding: "receipt row (email db) duplicated: 1 (o2)",
		},
		{
			name:   "deleted receipt row",
			edit:   func(_ *Expectation, s *Snapshot) { s.Mails = s.Mails[1:] },
			effect: "receipt row (email db)", column: lost, finding: "receipt row (email db) lost: 1 (o1)",
		},
		{
			name:   "lost receipt mail",
			edit:   func(_ *Expectation, s *Snapshot) { s.Caught = s.Caught[1:] },
			effect: "receipt mail (catcher)", column: lost, finding: "receipt mail (catcher) lost: 1 (o1)",
		},
		{
			name: "duplicate mail with the same Message-ID",
			edit: func(_ *Expectation, s *Snapshot) {
				s.Caught = append(s.Caught, s.Caught[0])
			},
			effect: "receipt mail (catcher)", column: duplicated, pass: true,
		},
		{
			name: "duplicate mail with a different Message-ID",
			edit: func(_ *Expectation, s *Snapshot) {
				s.Caught = append(s.Caught, CaughtMail{"other@x", []string{"c1@example.com"}, "Your orderbus order o1 is received"})
			},
			effect: "receipt mail (catcher)", column: unexpected, finding: "receipt mails whose Message-ID no mail row holds",
		},
		{
			name:    "mail to the wrong recipient",
			edit:    func(_ *Expectation, s *Snapshot) { s.Caught[1].To = []string{"c2@example.com"} },
			effect:  "receipt mail (catcher)",
			finding: "receipt mails to the wrong recipient: 1 (o2)",
		},
		{
			name:   "lost apology",
			edit:   func(_ *Expectation, s *Snapshot) { s.Mails = s.Mails[:3] },
			effect: "apology row (email db)", column: lost, finding: "apology row (email db) lost: 1 (o3)",
		},
		{
			name: "apology for a confirmed order",
			edit: func(_ *Expectation, s *Snapshot) {
				s.Mails = append(s.Mails, MailRow{"o1", KindApology, "r1@x", "c1@example.com", "sent"})
			},
			effect: "apology row (email db)", column: unexpected, finding: "apology row (email db) unexpected: 1 (o1)",
		},
		{
			name: "duplicate sms",
			edit: func(_ *Expectation, s *Snapshot) {
				s.Texts = append(s.Texts, TextRow{"o3", "sent"})
			},
			effect: "sms row (sms db)", column: duplicated, finding: "sms row (sms db) duplicated: 1 (o3)",
		},
		{
			name:   "too few rejections",
			edit:   func(e *Expectation, _ *Snapshot) { e.Rejections = 2 },
			effect: "order rejected (stock short)", column: lost, finding: "rejected orders: 1, want 2",
		},
		{
			name:    "outbox not empty",
			edit:    func(_ *Expectation, s *Snapshot) { s.Outboxes["inventory"] = 2 },
			effect:  "order row",
			finding: "outbox of inventory holds 2 events",
		},
		{
			name:    "consumer with pending messages",
			edit:    func(_ *Expectation, s *Snapshot) { s.Consumers[1].AckPending = 3 },
			effect:  "order row",
			finding: "consumer ORDERS/sms: 0 pending, 3 awaiting ack",
		},
		{
			name:    "consumer missing",
			edit:    func(_ *Expectation, s *Snapshot) { s.Consumers = s.Consumers[:3] },
			effect:  "order row",
			finding: "consumer INVENTORY/order-inventory does not exist",
		},
		{
			name:    "dead letter",
			edit:    func(_ *Expectation, s *Snapshot) { s.DeadLetters = 1 },
			effect:  "order row",
			finding: "the DLQ holds 1 messages",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			exp, snap := world()
			tt.edit(&exp, &snap)
			r := Check(exp, snap)
			if got := effect(t, r, tt.effect); tt.column != nil && tt.column(got) != 1 {
				t.Errorf("effect %+v counts the deviation %d times, want 1", got, tt.column(got))
			}
			if tt.pass {
				if !r.OK() {
					t.Fatalf("an allowed deviation failed the check: %v", r.Findings)
				}
				if e := effect(t, r, tt.effect); !strings.Contains(e.Note, "same Message-ID") {
					t.Errorf("effect %+v: the note does not report the same-Message-ID copy", e)
				}
				return
			}
			if r.OK() {
				t.Fatal("the check passed")
			}
			if !slices.ContainsFunc(r.Findings, func(f string) bool { return strings.Contains(f, tt.finding) }) {
				t.Errorf("findings %q lack %q", r.Findings, tt.finding)
			}
			var out bytes.Buffer
			r.Print(&out)
			if !strings.Contains(out.String(), "checker: FAIL") {
				t.Errorf("printed report lacks the verdict:\n%s", out.String())
			}
		})
	}
}

func lost(e Effect) int       { return e.Lost }
func duplicated(e Effect) int { return e.Duplicated }
func unexpected(e Effect) int { return e.Unexpected }
