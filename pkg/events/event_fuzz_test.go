package events

import (
	"bytes"
	"errors"
	"testing"

	"github.com/nats-io/nats.go"
)

// FuzzParse feeds Parse arbitrary CloudEvents headers and data. It must
// never panic; it either refuses the message with ErrMalformed or returns
// an event with every required attribute, JSON data, and the same event
// again when its own Header is parsed back (what a redelivery or a
// dead-letter redrive does). Seeds: testdata/fuzz/FuzzParse and f.Add.
func FuzzParse(f *testing.F) {
	f.Add("1.0", "0193f1e4-1234-7000-8000-000000000001", "/orderbus/order", TypeOrderPlaced,
		"2026-01-02T03:04:05.123456Z", "application/json", "0193f1e4-1234-7000-8000-000000000002",
		"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", []byte(`{"order_id":"x","items":[]}`))
	f.Add("1.0", "id", "src", "t", "", "", "", "", []byte(nil))
	f.Add("0.3", "id", "src", "t", "", "", "", "", []byte(`{}`))
	f.Add("1.0", "id", "src", "t", "yesterday", "application/json", "", "", []byte(`{}`))
	f.Add("1.0", "id", "src", "t", "", "text/plain", "", "", []byte(`{}`))
	f.Add("1.0", "id", "src", "t", "", "application/cloudevents+json; charset=utf-8", "", "", []byte(`{"a":`))
	f.Fuzz(func(t *testing.T, spec, id, source, typ, ctime, contentType, subject, traceparent string, data []byte) {
		h := nats.Header{}
		for name, v := range map[string]string{
			HeaderSpecVersion: spec, HeaderID: id, HeaderSource: source, HeaderType: typ, HeaderTime: ctime,
			HeaderContentType: contentType, HeaderSubject: subject, HeaderTraceParent: traceparent,
		} {
			if v != "" {
				h.Set(name, v)
			}
		}
		e, err := Parse(h, data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if e.ID == "" || e.Source == "" || e.Type == "" {
			t.Fatalf("Parse accepted an event without id, source or type: %+v", e)
		}
		if len(data) > 0 && !bytes.Equal(e.Data, data) {
			t.Fatalf("data changed: %q -> %q", data, e.Data)
		}
		again, err := Parse(e.Header(), e.Data)
		if err != nil {
			t.Fatalf("Parse(e.Header()) of an accepted event: %v (event %+v)", err, e)
		}
		if again.ID != e.ID || again.Source != e.Source || again.Type != e.Type || again.Subject != e.Subject ||
			again.TraceParent != e.TraceParent || !again.Time.Equal(e.Time) || !bytes.Equal(again.Data, e.Data) {
			t.Fatalf("round trip changed the event:\n %+v\n %+v", e, again)
		}
	})
}
