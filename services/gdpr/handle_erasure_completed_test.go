package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

// requestErasure POSTs an erasure for customerID and returns its id.
func (e *testEnv) requestErasure(t *testing.T, customerID string) string {
	t.Helper()
	res := e.postErasure(customerID)
	if res.code != http.StatusAccepted {
		t.Fatalf("POST /v1/erasures = %d %s, want 202", res.code, res.body)
	}
	var c createdJSON
	if err := json.Unmarshal([]byte(res.body), &c); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// TestErasureCompletes follows an erasure from the request to its
// completion: the answers of three participants leave it pending, a
// redelivered answer changes nothing, the fourth completes it, and only
// then are the customer's messages purged, the other customer's kept.
func TestErasureCompletes(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	customer, other := uuid.NewString(), uuid.NewString()
	seeded := e.seedCustomerMessages(t, customer)
	e.seedCustomerMessages(t, other)
	id := e.requestErasure(t, customer)

	counts := map[string]map[string]int64{
		"order": {"orders": 2}, "email": {"mails": 3}, "sms": {"messages": 1}, "inventory": {"reservations": 2},
	}
	var emailAnswer events.Event
	var seq uint64
	for _, service := range []string{"order", "email", "sms"} {
		ev, s := e.answer(t, id, customer, service, counts[service])
		if service == "email" {
			emailAnswer = ev
		}
		seq = s
	}
	e.settled(t, seq)
	got := e.erasure(t, id)
	if got.Status != "pending" || got.CompletedAt != nil ||
		got.states() != "order=answered email=answered sms=answered inventory=pending" {
		t.Fatalf("after three answers: status %s, participants %s; want pending, inventory missing", got.Status, got.states())
	}
	for _, p := range got.Participants[:3] {
		if p.AnsweredAt == nil || !maps.Equal(p.Erased, counts[p.Service]) {
			t.Errorf("participant %s: answered_at %v, erased %v, want %v", p.Service, p.AnsweredAt, p.Erased, counts[p.Service])
		}
	}
	if left := e.customerMessages(t, customer); len(left) != len(seeded) {
		t.Errorf("before the last answer the customer has %d subjects, want all %d: %v", len(left), len(seeded), left)
	}

	// The email answer again, as a redelivery would bring it: same ce-id,
	// other counts, and another Nats-Msg-Id so the stream keeps it.
	dup := &nats.Msg{Subject: events.ErasureCompletedSubject("email"), Header: emailAnswer.Header(),
		Data: []byte(`{"erasure_id":"` + id + `","customer_id":"` + customer + `","service":"email","erased":{"mails":99}}`)}
	dup.Header.Set(events.HeaderMsgID, "redelivered-"+emailAnswer.ID)
	e.settled(t, e.publish(t, dup))
	if got := e.erasure(t, id); !maps.Equal(got.Participants[1].Erased, counts["email"]) || got.Status != "pending" {
		t.Errorf("after the duplicate: email erased %v, status %s; want %v, pending", got.Participants[1].Erased, got.Status, counts["email"])
	}
	if v := e.metric(t, `gdpr_answers_total{outcome="duplicate"}`); v != 1 {
		t.Errorf(`gdpr_answers_total{outcome="duplicate"} = %v, want 1`, v)
	}

	e.answer(t, id, customer, "inventory", counts["inventory"])
	// Purged, but not completed before every participant verified.
	e.verifyAll(t, id, customer, "order", "email", "sms")
	if left := e.customerMessages(t, customer); len(left) != 0 {
		t.Errorf("after the purge the customer still has messages: %v", left)
	}
	waiting := e.waitErasure(t, id, "three verifications", func(x erasureJSON) bool {
		return x.states() == "order=verified email=verified sms=verified inventory=answered"
	})
	if waiting.Status != "pending" || waiting.PurgedAt == nil || len(waiting.Waiting) != 1 || waiting.Waiting[0] != "inventory" {
		t.Errorf("before the last verification: status %s, purged_at %v, waiting %v; want pending, purged, waiting for inventory",
			waiting.Status, waiting.PurgedAt, waiting.Waiting)
	}
	e.verifyAll(t, id, customer, "inventory")
	done := e.waitErasure(t, id, "the erasure to complete", func(x erasureJSON) bool { return x.Status == "completed" })
	if done.CompletedAt == nil || done.CompletedAt.Before(done.RequestedAt) ||
		done.states() != "order=verified email=verified sms=verified inventory=verified" {
		t.Errorf("completed erasure: %+v", done)
	}
	for _, p := range done.Participants {
		if p.VerifiedAt == nil || p.Verification == nil || p.Verification.Remaining["rows"] != 0 {
			t.Errorf("participant %s: verified_at %v, verification %+v", p.Service, p.VerifiedAt, p.Verification)
		}
	}
	if left := e.customerMessages(t, other); len(left) != len(seeded) {
		t.Errorf("the other customer has %d subjects left, want all %d: %v", len(left), len(seeded), left)
	}

	for series, want := range map[string]float64{
		"gdpr_erasures_open":                       0,
		"gdpr_erasure_oldest_open_age_seconds":     0,
		`gdpr_erasures_total{outcome="completed"}`: 1,
		`gdpr_answers_total{outcome="recorded"}`:   4,
		`gdpr_answers_total{outcome="verified"}`:   4,
		`gdpr_completion_failures_total`:           0,
		`gdpr_answers_total{outcome="ignored"}`:    0,
		`gdpr_erasures_total{outcome="requested"}`: 1,
		`orderbus_outbox_pending`:                  0,
	} {
		if v := e.metric(t, series); v != want {
			t.Errorf("%s = %v, want %v", series, v, want)
		}
	}
	for action, want := range map[string]int{"requested": 1, "answered": 4, "purged": 1, "verified": 4, "completed": 1} {
		if n := e.count(t, "erasure_audit", "erasure_id = $1 AND action = $2", id, action); n != want {
			t.Errorf("audit has %d %s entries, want %d", n, action, want)
		}
	}

	// A participant that erases again (new data arrived) answers again:
	// its counts are replaced, the erasure stays completed as it was.
	e.answer(t, id, customer, "order", map[string]int64{"orders": 1})
	again := e.waitErasure(t, id, "the re-erasure to be recorded", func(x erasureJSON) bool {
		return x.Participants[0].Erased["orders"] == 1
	})
	if again.Status != "completed" || !again.CompletedAt.Equal(*done.CompletedAt) {
		t.Errorf("after a re-erasure: status %s completed at %v, want completed at %v", again.Status, again.CompletedAt, done.CompletedAt)
	}

	// The customer may be erased again, as a new erasure.
	if next := e.requestErasure(t, customer); next == id {
		t.Errorf("a request after completion returned the completed erasure")
	}
}

// TestAnswersDeadLettered sends answers the service cannot use: each is
// dead-lettered at once and changes nothing.
func TestAnswersDeadLettered(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	customer := uuid.NewString()
	id := e.requestErasure(t, customer)
	valid := func() events.ErasureCompleted {
		return events.ErasureCompleted{ErasureID: id, CustomerID: customer, Service: "order",
			Erased: map[string]int64{"orders": 1}, CompletedAt: time.Now().UTC()}
	}
	tests := []struct {
		name    string
		edit    func(p *events.ErasureCompleted)
		subject string // "" means the service's own
		source  string // ce-source; "" means order's
		reason  string // of the DLQ copy; "" means permanent
	}{
		{name: "unknown erasure", edit: func(p *events.ErasureCompleted) { p.ErasureID = uuid.NewString() }},
		{name: "other customer", edit: func(p *events.ErasureCompleted) { p.CustomerID = uuid.NewString() }},
		{name: "erasure id not a uuid", edit: func(p *events.ErasureCompleted) { p.ErasureID = "e-1" }},
		{name: "no service", edit: func(p *events.ErasureCompleted) { p.Service = "" }, subject: events.ErasureCompletedSubject("order")},
		{name: "another service's subject", edit: func(*events.ErasureCompleted) {}, subject: events.ErasureCompletedSubject("sms"),
			source: events.SourceOf("sms")},
		{name: "answer forged by another service", edit: func(*events.ErasureCompleted) {}, subject: events.ErasureCompletedSubject("sms"),
			reason: "foreign_source"},
		{name: "negative count", edit: func(p *events.ErasureCompleted) { p.Erased["orders"] = -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := valid()
			tt.edit(&p)
			source, reason := cmp.Or(tt.source, events.SourceOf("order")), cmp.Or(tt.reason, "permanent")
			ev, err := events.New(source, events.TypeErasureCompleted, p.ErasureID, p)
			if err != nil {
				t.Fatal(err)
			}
			subject := tt.subject
			if subject == "" {
				subject = events.ErasureCompletedSubject(p.Service)
			}
			e.settled(t, e.publish(t, &nats.Msg{Subject: subject, Header: ev.Header(), Data: ev.Data}))
			var dlq string
			servicetest.WaitFor(t, 10*time.Second, "the DLQ copy", func() (bool, string) {
				m := e.deadLettered(t, subject, ev.ID)
				if m == nil {
					return false, "none"
				}
				dlq = m.Subject + " " + m.Header.Get(natsjs.HeaderReason) + " " + m.Header.Get(natsjs.HeaderError)
				return true, ""
			})
			if !strings.HasPrefix(dlq, events.DLQSubject(durableCompletions, subject)+" "+reason+" ") {
				t.Errorf("DLQ copy = %q, want a %s one on %s", dlq, reason, events.DLQSubject(durableCompletions, subject))
			}
			if n := e.count(t, "inbox", "message_id = $1", ev.ID); n != 0 {
				t.Errorf("the dead-lettered answer is in the inbox")
			}
		})
	}
	t.Cleanup(func() {
		got := e.erasure(t, id)
		if got.Status != "pending" || got.states() != "order=pending email=pending sms=pending inventory=pending" {
			t.Errorf("after the dead-lettered answers: %s %s, want all pending", got.Status, got.states())
		}
		if n := e.count(t, "erasure_audit", "action = 'answered'"); n != 0 {
			t.Errorf("%d answers audited, want none", n)
		}
	})
}

// TestAnswerFromNonParticipantIsIgnored: a service the erasure did not ask
// is logged and acknowledged, and nothing is recorded.
func TestAnswerFromNonParticipantIsIgnored(t *testing.T) {
	t.Parallel()
	e := startEnv(t, map[string]string{"GDPR_PARTICIPANTS": "order,email"})
	customer := uuid.NewString()
	id := e.requestErasure(t, customer)
	ev, seq := e.answer(t, id, customer, "billing", map[string]int64{"invoices": 4})
	e.settled(t, seq)

	if got := e.erasure(t, id); got.Status != "pending" || got.states() != "order=pending email=pending" {
		t.Errorf("erasure = %s %s, want pending, order and email pending", got.Status, got.states())
	}
	if n := e.count(t, "inbox", "message_id = $1", ev.ID); n != 0 {
		t.Errorf("the ignored answer is in the inbox")
	}
	if n := e.count(t, "erasure_audit", "action = 'answered'"); n != 0 {
		t.Errorf("%d answers audited, want none", n)
	}
	if m := e.deadLettered(t, events.ErasureCompletedSubject("billing"), ev.ID); m != nil {
		t.Errorf("the ignored answer was dead-lettered on %s", m.Subject)
	}
	if v := e.metric(t, `gdpr_answers_total{outcome="ignored"}`); v != 1 {
		t.Errorf(`gdpr_answers_total{outcome="ignored"} = %v, want 1`, v)
	}
	if logs := e.Logs(); !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "not a participant") ||
		!strings.Contains(logs, "participant=billing") {
		t.Errorf("no warning naming the non-participant in the log")
	}

	// The participants it did ask still complete it.
	e.answer(t, id, customer, "order", nil)
	e.answer(t, id, customer, "email", map[string]int64{})
	e.verifyAll(t, id, customer, "order", "email")
	e.waitErasure(t, id, "completion", func(x erasureJSON) bool { return x.Status == "completed" })
}

// TestCompletionSurvivesFailedPurge makes the purge fail when the last
// answer arrives (its INVENTORY stream is gone): the answer stays
// recorded, the erasure pending, another answer arriving meanwhile is
// recorded too, and a redelivery completes the erasure, once, when the
// stream is back.
func TestCompletionSurvivesFailedPurge(t *testing.T) {
	t.Parallel()
	e := startEnv(t, map[string]string{"CONSUMER_BACKOFF": "500ms"})
	customer := uuid.NewString()
	e.seedCustomerMessages(t, customer)
	id := e.requestErasure(t, customer)
	for _, s := range []string{"order", "email", "sms"} {
		e.answer(t, id, customer, s, map[string]int64{"rows": 1})
	}
	e.waitErasure(t, id, "three answers", func(x erasureJSON) bool { return strings.Count(x.states(), "=answered") == 3 })

	ctx := context.Background()
	if err := e.js.DeleteStream(ctx, events.StreamInventory); err != nil {
		t.Fatal(err)
	}
	// A stream holding its subjects keeps the service's stream setup from
	// recreating INVENTORY until the test is ready.
	if _, err := e.js.CreateStream(ctx, jetstream.StreamConfig{Name: "BLOCK_INVENTORY", Subjects: []string{"inventory.>"},
		Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	e.answer(t, id, customer, "inventory", map[string]int64{"reservations": 1})
	servicetest.WaitFor(t, 10*time.Second, "the purge to fail", func() (bool, string) {
		v := e.metric(t, "gdpr_completion_failures_total")
		return v >= 1, fmt.Sprintf("gdpr_completion_failures_total %v", v)
	})
	got := e.erasure(t, id)
	if got.Status != "pending" || got.states() != "order=answered email=answered sms=answered inventory=answered" {
		t.Fatalf("after the failed purge: %s %s, want pending with every answer recorded", got.Status, got.states())
	}
	// Another answer while the purge keeps failing (a participant erasing
	// again) is recorded all the same; its own completion attempt fails too.
	_, last := e.answer(t, id, customer, "order", map[string]int64{"rows": 5})
	e.waitErasure(t, id, "the answer during the outage", func(x erasureJSON) bool {
		return x.Participants[0].Erased["rows"] == 5 && x.Status == "pending"
	})

	if err := e.js.DeleteStream(ctx, "BLOCK_INVENTORY"); err != nil {
		t.Fatal(err)
	}
	if err := natsjs.EnsureStreams(ctx, e.js, events.Streams(events.DefaultRetention())...); err != nil {
		t.Fatal(err)
	}
	e.verifyAll(t, id, customer, "order", "email", "sms", "inventory")
	e.waitErasure(t, id, "completion after the retry", func(x erasureJSON) bool { return x.Status == "completed" })
	e.settled(t, last)
	if left := e.customerMessages(t, customer); len(left) != 0 {
		t.Errorf("after completion the customer still has messages: %v", left)
	}
	if v := e.metric(t, `orderbus_consumer_messages_total{durable="gdpr-completions",outcome="retried"}`); v < 1 {
		t.Errorf("retried deliveries = %v, want the failed one retried", v)
	}
	if n := e.count(t, "erasure_audit", "action = 'completed'"); n != 1 {
		t.Errorf("%d completions audited, want 1", n)
	}
}

func TestRecordAnswer(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ctx := context.Background()
	e := mustRequest(t, s, "order", "sms")
	t0 := time.Now().UTC().Truncate(time.Microsecond)
	base := answer{Consumer: durableCompletions, ErasureID: e.ID, CustomerID: e.CustomerID, Service: "order",
		Erased: map[string]int64{"orders": 2}, AnsweredAt: t0}

	first := base
	first.MessageID = uuid.NewString()
	tests := []struct {
		name        string
		a           answer
		wantOutcome string
		wantErr     error
		wantErased  map[string]int64 // order's counts afterwards
	}{
		{name: "first answer", a: first, wantOutcome: answerRecorded, wantErased: map[string]int64{"orders": 2}},
		{name: "same message again", a: func() answer { a := first; a.Erased = map[string]int64{"orders": 9}; return a }(),
			wantOutcome: answerDuplicate, wantErased: map[string]int64{"orders": 2}},
		{name: "later re-erasure replaces", a: func() answer {
			a := base
			a.MessageID, a.AnsweredAt, a.Erased = uuid.NewString(), t0.Add(time.Minute), map[string]int64{"orders": 1}
			return a
		}(), wantOutcome: answerRecorded, wantErased: map[string]int64{"orders": 1}},
		{name: "older answer is only audited", a: func() answer {
			a := base
			a.MessageID, a.AnsweredAt, a.Erased = uuid.NewString(), t0.Add(-time.Minute), map[string]int64{"orders": 7}
			return a
		}(), wantOutcome: answerRecorded, wantErased: map[string]int64{"orders": 1}},
		{name: "not a participant", a: func() answer {
			a := base
			a.MessageID, a.Service = uuid.NewString(), "billing"
			return a
		}(), wantOutcome: answerIgnored, wantErased: map[string]int64{"orders": 1}},
		{name: "unknown erasure", a: func() answer { a := base; a.MessageID, a.ErasureID = uuid.NewString(), uuid.New(); return a }(),
			wantErr: errErasureNotFound, wantErased: map[string]int64{"orders": 1}},
		{name: "other customer", a: func() answer { a := base; a.MessageID, a.CustomerID = uuid.NewString(), uuid.New(); return a }(),
			wantErr: errCustomerMismatch, wantErased: map[string]int64{"orders": 1}},
	}
	// Sequential: each case builds on the state the previous left.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outcome, err := recordAnswer(ctx, s, tt.a)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("recordAnswer error = %v, want %v", err, tt.wantErr)
				}
			} else if err != nil || outcome != tt.wantOutcome {
				t.Fatalf("recordAnswer = %q, %v; want %q", outcome, err, tt.wantOutcome)
			}
			got, err := s.Erasure(ctx, e.ID)
			if err != nil {
				t.Fatal(err)
			}
			if p := got.Participants[0]; p.State != stateAnswered || !maps.Equal(p.Erased, tt.wantErased) {
				t.Errorf("order participant = %+v, want answered with %v", p, tt.wantErased)
			}
			if p := got.Participants[1]; p.State != statusPending {
				t.Errorf("sms participant = %+v, want pending", p)
			}
		})
	}
	var audited, inbox int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM erasure_audit WHERE action = 'answered'`).Scan(&audited); err != nil {
		t.Fatal(err)
	}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM inbox`).Scan(&inbox); err != nil {
		t.Fatal(err)
	}
	if audited != 3 || inbox != 3 {
		t.Errorf("%d answers audited, %d inbox rows; want 3 and 3 (first, re-erasure, older)", audited, inbox)
	}
}
