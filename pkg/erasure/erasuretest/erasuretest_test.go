package erasuretest_test

import (
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/orderbus/orderbus/pkg/erasure/erasuretest"
	"github.com/orderbus/orderbus/pkg/events"
)

func TestRequestAndRedelivered(t *testing.T) {
	t.Parallel()
	const customer = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
	msg, id := erasuretest.Request(t, customer)
	ev, err := events.Parse(msg.Header, msg.Data)
	if err != nil {
		t.Fatalf("parse request: %v", err)
	}
	var req events.ErasureRequested
	if err := ev.Decode(&req); err != nil {
		t.Fatal(err)
	}
	if msg.Subject != events.SubjectErasureRequested || ev.Type != events.TypeErasureRequested ||
		req.ErasureID != id || req.CustomerID != customer || !events.ValidUUID(id) {
		t.Errorf("request on %s = %+v, event %+v; want erasure %s of %s", msg.Subject, req, ev, id, customer)
	}

	again := erasuretest.Redelivered(msg)
	if again.Header.Get(nats.MsgIdHdr) == msg.Header.Get(nats.MsgIdHdr) {
		t.Error("redelivered copy keeps the Nats-Msg-Id, want a new one past JetStream's dedup")
	}
	evAgain, err := events.Parse(again.Header, again.Data)
	if err != nil || evAgain.ID != ev.ID || again.Subject != msg.Subject {
		t.Errorf("redelivered copy = %+v (%v), want the same event %s on %s", evAgain, err, ev.ID, msg.Subject)
	}
	again.Header.Set("X-Probe", "1")
	if msg.Header.Get("X-Probe") != "" {
		t.Error("changing the copy's headers changed the original's")
	}
}
