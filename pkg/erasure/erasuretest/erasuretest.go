// Package erasuretest holds the test helpers every erasure participant's
// tests share: the request as the gdpr service publishes it, its
// redelivery, and the wait for the participant's answers.
package erasuretest

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

// answerTimeout bounds Answers' wait.
const answerTimeout = 20 * time.Second

// Request returns a new erasure request for customerID, as the gdpr
// service publishes it on gdpr.erasure.requested, and its erasure id.
func Request(t testing.TB, customerID string) (*nats.Msg, string) {
	t.Helper()
	return RequestAt(t, customerID, time.Now().UTC())
}

// RequestAt is Request with the erasure's cut-off (requested_at) at.
func RequestAt(t testing.TB, customerID string, at time.Time) (*nats.Msg, string) {
	t.Helper()
	id := uuid.NewString()
	ev, err := events.New("/orderbus/gdpr", events.TypeErasureRequested, id,
		events.ErasureRequested{ErasureID: id, CustomerID: customerID, RequestedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	return &nats.Msg{Subject: events.SubjectErasureRequested, Header: ev.Header(), Data: ev.Data}, id
}

// Redelivered returns a copy of msg (the same event, ce-id included)
// under another Nats-Msg-Id, which JetStream stores and delivers again,
// as a redelivery after a lost ack would be.
func Redelivered(msg *nats.Msg) *nats.Msg {
	h := nats.Header{}
	for k, v := range msg.Header {
		h[k] = append([]string(nil), v...)
	}
	h.Set(nats.MsgIdHdr, "again-"+uuid.NewString())
	return &nats.Msg{Subject: msg.Subject, Header: h, Data: msg.Data}
}

// Answers waits until service's erasure consumer ("<service>-erasure") has
// settled every GDPR message up to stream sequence seq, the stream holds
// at least n answers of service, and also (when not nil) holds, such as
// "the outbox is empty"; then it returns the answers, oldest first. It
// fails the test unless there are exactly n, each from
// "/orderbus/<service>" and of type gdpr.erasure.completed.
func Answers(t testing.TB, js jetstream.JetStream, service string, seq uint64, n int, also func() (bool, string)) []events.ErasureCompleted {
	t.Helper()
	subject := events.ErasureCompletedSubject(service)
	var msgs []*jetstream.RawStreamMsg
	servicetest.WaitFor(t, answerTimeout, "the erasure answers of "+service, func() (bool, string) {
		msgs = servicetest.StreamMsgs(t, js, events.StreamGDPR, subject)
		ok, seen := servicetest.Settled(js, events.StreamGDPR, service+"-erasure", seq)
		seen = fmt.Sprintf("%d answers; %s", len(msgs), seen)
		if also != nil {
			more, moreSeen := also()
			ok, seen = ok && more, seen+"; "+moreSeen
		}
		return ok && len(msgs) >= n, seen
	})
	if len(msgs) != n {
		t.Fatalf("%d answers on %s, want %d", len(msgs), subject, n)
	}
	out := make([]events.ErasureCompleted, n)
	for i, m := range msgs {
		ev, err := events.Parse(m.Header, m.Data)
		if err != nil {
			t.Fatal(err)
		}
		if src := "/orderbus/" + service; ev.Source != src || ev.Type != events.TypeErasureCompleted {
			t.Errorf("answer source %q, type %q; want %s, %s", ev.Source, ev.Type, src, events.TypeErasureCompleted)
		}
		if err := ev.Decode(&out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// OutboxEmpty returns a condition for Answers: the participant's outbox,
// in db, holds no row, so every answer it enqueued has been published.
func OutboxEmpty(t testing.TB, db *pgxpool.Pool) func() (bool, string) {
	return func() (bool, string) {
		var n int
		if err := db.QueryRow(t.Context(), `SELECT count(*) FROM outbox`).Scan(&n); err != nil {
			return false, fmt.Sprintf("count outbox rows: %v", err)
		}
		return n == 0, fmt.Sprintf("outbox rows %d", n)
	}
}

// Verify returns the verification request the gdpr service publishes on
// gdpr.erasure.verify once it has purged the erasure's messages up to
// bounds (by stream).
func Verify(t testing.TB, erasureID, customerID string, requestedAt time.Time, bounds map[string]uint64) *nats.Msg {
	t.Helper()
	ev, err := events.New("/orderbus/gdpr", events.TypeErasureVerify, erasureID, events.ErasureVerify{
		ErasureID: erasureID, CustomerID: customerID, RequestedAt: requestedAt, Bounds: bounds,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &nats.Msg{Subject: events.SubjectErasureVerify, Header: ev.Header(), Data: ev.Data}
}

// Verifications waits until the GDPR stream holds at least n
// verifications of service and returns them, oldest first; it fails the
// test unless there are exactly n, each from "/orderbus/<service>" and of
// type gdpr.erasure.verified.
func Verifications(t testing.TB, js jetstream.JetStream, service string, n int) []events.ErasureVerified {
	t.Helper()
	subject := events.ErasureVerifiedSubject(service)
	var msgs []*jetstream.RawStreamMsg
	servicetest.WaitFor(t, answerTimeout, "the verifications of "+service, func() (bool, string) {
		msgs = servicetest.StreamMsgs(t, js, events.StreamGDPR, subject)
		return len(msgs) >= n, fmt.Sprintf("%d verifications", len(msgs))
	})
	if len(msgs) != n {
		t.Fatalf("%d verifications on %s, want %d", len(msgs), subject, n)
	}
	out := make([]events.ErasureVerified, n)
	for i, m := range msgs {
		ev, err := events.Parse(m.Header, m.Data)
		if err != nil {
			t.Fatal(err)
		}
		if src := "/orderbus/" + service; ev.Source != src || ev.Type != events.TypeErasureVerified {
			t.Errorf("verification source %q, type %q; want %s, %s", ev.Source, ev.Type, src, events.TypeErasureVerified)
		}
		if err := ev.Decode(&out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
