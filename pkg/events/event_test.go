package events_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/orderbus/orderbus/pkg/events"
)

func TestNew(t *testing.T) {
	t.Parallel()
	before := time.Now().UTC()
	ev, err := events.New("/orderbus/order", events.TypeOrderConfirmed, "o-1",
		events.OrderConfirmed{OrderID: "o-1", CustomerID: "c-1"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	id, err := uuid.Parse(ev.ID)
	if err != nil || id.Version() != 7 {
		t.Errorf("ID %q: want a UUIDv7 (err %v)", ev.ID, err)
	}
	if ev.Time.Before(before) || ev.Time.Location() != time.UTC {
		t.Errorf("Time %v: want UTC, not before %v", ev.Time, before)
	}
	var got events.OrderConfirmed
	if err := ev.Decode(&got); err != nil || got.OrderID != "o-1" || got.CustomerID != "c-1" {
		t.Errorf("Decode = %+v, %v", got, err)
	}

	tests := []struct {
		name, source, typ string
		data              any
	}{
		{name: "no source", typ: events.TypeOrderPlaced, data: 1},
		{name: "no type", source: "/x", data: 1},
		{name: "unencodable data", source: "/x", typ: events.TypeOrderPlaced, data: make(chan int)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := events.New(tt.source, tt.typ, "", tt.data); err == nil {
				t.Fatal("New: want an error")
			}
		})
	}
}

func TestHeaderParseRoundTrip(t *testing.T) {
	t.Parallel()
	tm := time.Date(2025, 3, 4, 5, 6, 7, 890123456, time.UTC)
	tests := []struct {
		name string
		ev   events.Event
	}{
		{name: "all attributes", ev: events.Event{
			ID: "0195f0a8-0000-7000-8000-000000000001", Source: "/orderbus/order",
			Type: events.TypeOrderPlaced, Subject: "o-1", Time: tm,
			Data:        json.RawMessage(`{"order_id":"o-1"}`),
			TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
			TraceState:  "vendor=abc",
		}},
		{name: "optional attributes unset", ev: events.Event{
			ID: "id-2", Source: "/orderbus/gdpr", Type: events.TypeErasureRequested, Time: tm,
			Data: json.RawMessage(`{}`),
		}},
		{name: "no data", ev: events.Event{
			ID: "id-3", Source: "/s", Type: events.TypeOrderConfirmed, Time: tm,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := tt.ev.Header()
			if got := h.Get("Nats-Msg-Id"); got != tt.ev.ID {
				t.Errorf("Nats-Msg-Id = %q, want the event id %q", got, tt.ev.ID)
			}
			if got := h.Get("ce-specversion"); got != "1.0" {
				t.Errorf("ce-specversion = %q", got)
			}
			if got := h.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
			if got := h.Get("ce-time"); got != "2025-03-04T05:06:07.890123456Z" {
				t.Errorf("ce-time = %q", got)
			}
			if _, ok := h["traceparent"]; ok != (tt.ev.TraceParent != "") {
				t.Errorf("traceparent present = %v, want %v", ok, tt.ev.TraceParent != "")
			}
			if _, ok := h["tracestate"]; ok != (tt.ev.TraceState != "") {
				t.Errorf("tracestate present = %v, want %v", ok, tt.ev.TraceState != "")
			}
			got, err := events.Parse(h, tt.ev.Data)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !got.Time.Equal(tt.ev.Time) {
				t.Errorf("Time = %v, want %v", got.Time, tt.ev.Time)
			}
			if string(got.Data) != string(tt.ev.Data) {
				t.Errorf("Data = %s, want %s", got.Data, tt.ev.Data)
			}
			if got.ID != tt.ev.ID || got.Source != tt.ev.Source || got.Type != tt.ev.Type ||
				got.Subject != tt.ev.Subject || got.TraceParent != tt.ev.TraceParent ||
				got.TraceState != tt.ev.TraceState {
				t.Errorf("Parse = %+v, want %+v", got, tt.ev)
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	t.Parallel()
	valid := func() nats.Header {
		ev := events.Event{ID: "id-1", Source: "/s", Type: events.TypeOrderPlaced, Time: time.Now()}
		return ev.Header()
	}
	tests := []struct {
		name   string
		edit   func(h nats.Header)
		data   string
		reason string
	}{
		{name: "no headers", edit: func(h nats.Header) { clear(h) }, data: `{}`, reason: "missing ce-specversion"},
		{name: "other specversion", edit: func(h nats.Header) { h.Set("ce-specversion", "0.3") }, data: `{}`, reason: "unsupported ce-specversion"},
		{name: "missing id", edit: func(h nats.Header) { h.Del("ce-id") }, data: `{}`, reason: "missing ce-id"},
		{name: "missing source", edit: func(h nats.Header) { h.Del("ce-source") }, data: `{}`, reason: "missing ce-source"},
		{name: "missing type", edit: func(h nats.Header) { h.Del("ce-type") }, data: `{}`, reason: "missing ce-type"},
		{name: "empty type", edit: func(h nats.Header) { h.Set("ce-type", "") }, data: `{}`, reason: "missing ce-type"},
		{name: "bad time", edit: func(h nats.Header) { h.Set("ce-time", "yesterday") }, data: `{}`, reason: "invalid ce-time"},
		{name: "not json content", edit: func(h nats.Header) { h.Set("Content-Type", "text/plain") }, data: `{}`, reason: "unsupported Content-Type"},
		{name: "bad content type", edit: func(h nats.Header) { h.Set("Content-Type", ";;") }, data: `{}`, reason: "unsupported Content-Type"},
		{name: "invalid json body", edit: func(nats.Header) {}, data: `{"order_id":`, reason: "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := valid()
			tt.edit(h)
			_, err := events.Parse(h, []byte(tt.data))
			if !errors.Is(err, events.ErrMalformed) {
				t.Fatalf("Parse error = %v, want ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("Parse error = %q, want it to say %q", err, tt.reason)
			}
		})
	}
}

func TestParseLenient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		h    nats.Header
		want events.Event
	}{
		{
			name: "capitalised header names",
			h:    nats.Header{"Ce-Specversion": {"1.0"}, "Ce-Id": {"a"}, "Ce-Source": {"/s"}, "Ce-Type": {"t"}},
			want: events.Event{ID: "a", Source: "/s", Type: "t"},
		},
		{
			name: "json content type with charset and no time",
			h: nats.Header{"ce-specversion": {"1.0"}, "ce-id": {"b"}, "ce-source": {"/s"}, "ce-type": {"t"},
				"Content-Type": {"application/json; charset=utf-8"}},
			want: events.Event{ID: "b", Source: "/s", Type: "t"},
		},
		{
			name: "structured suffix json and RFC 3339 time without fraction",
			h: nats.Header{"ce-specversion": {"1.0"}, "ce-id": {"c"}, "ce-source": {"/s"}, "ce-type": {"t"},
				"Content-Type": {"application/cloudevents+json"}, "ce-time": {"2025-01-02T03:04:05+01:00"}},
			want: events.Event{ID: "c", Source: "/s", Type: "t",
				Time: time.Date(2025, 1, 2, 2, 4, 5, 0, time.UTC)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := events.Parse(tt.h, nil)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got.ID != tt.want.ID || got.Source != tt.want.Source || got.Type != tt.want.Type ||
				!got.Time.Equal(tt.want.Time) || got.Data != nil {
				t.Errorf("Parse = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		data      string
		malformed bool
		want      events.OrderPlaced
	}{
		{name: "snake case fields", data: `{"order_id":"o-1","customer":{"id":"c-1","email":"a@b.example"},"items":[{"sku":"S","quantity":2}]}`,
			want: events.OrderPlaced{OrderID: "o-1", Customer: events.Customer{ID: "c-1", Email: "a@b.example"}, Items: []events.Item{{SKU: "S", Quantity: 2}}}},
		{name: "unknown fields accepted", data: `{"order_id":"o-2","added_in_v1_1":true}`, want: events.OrderPlaced{OrderID: "o-2"}},
		{name: "no data", data: ``, malformed: true},
		{name: "wrong type", data: `{"order_id":5}`, malformed: true},
		{name: "not an object", data: `[1,2]`, malformed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := events.Event{ID: "x", Type: events.TypeOrderPlaced, Data: json.RawMessage(tt.data)}
			var got events.OrderPlaced
			err := ev.Decode(&got)
			if tt.malformed {
				if !errors.Is(err, events.ErrMalformed) {
					t.Fatalf("Decode error = %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got.OrderID != tt.want.OrderID || got.Customer != tt.want.Customer || len(got.Items) != len(tt.want.Items) {
				t.Errorf("Decode = %+v, want %+v", got, tt.want)
			}
		})
	}
}
