package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
)

// ErrMalformed is wrapped by every error of Parse and Decode: the message
// is not a valid orderbus event and retrying it will not help.
var ErrMalformed = errors.New("malformed event")

// SpecVersion is the only CloudEvents version this package reads and writes.
const SpecVersion = "1.0"

// Header names of the CloudEvents NATS binding (binary content mode) and
// of W3C trace context.
const (
	HeaderSpecVersion = "ce-specversion"
	HeaderID          = "ce-id"
	HeaderSource      = "ce-source"
	HeaderType        = "ce-type"
	HeaderTime        = "ce-time"
	HeaderSubject     = "ce-subject"
	HeaderContentType = "Content-Type"
	HeaderTraceParent = "traceparent"
	HeaderTraceState  = "tracestate"
	// HeaderMsgID is JetStream's deduplication header; it carries the event id.
	HeaderMsgID = "Nats-Msg-Id"
)

// ContentTypeJSON is the only data content type of orderbus events.
const ContentTypeJSON = "application/json"

// Event is a CloudEvents 1.0 event carried in binary content mode: the
// attributes travel as NATS headers (see Header) and Data is the body.
// Subject is the CloudEvents subject (the entity the event is about, such
// as an order id), not the NATS subject. The JSON tags name the CloudEvents
// attributes, for code that stores an event (an outbox row, say).
type Event struct {
	ID      string          `json:"id"`
	Source  string          `json:"source"`
	Type    string          `json:"type"`
	Subject string          `json:"subject,omitempty"`
	Time    time.Time       `json:"time"`
	Data    json.RawMessage `json:"data,omitempty"`
	// TraceParent and TraceState are the W3C trace context of the work
	// that produced the event (the CloudEvents distributed tracing
	// extension), "" when it was not traced.
	TraceParent string `json:"traceparent,omitempty"`
	TraceState  string `json:"tracestate,omitempty"`
}

// New builds an event with a fresh UUIDv7 id (time-ordered) and the current
// UTC time; data is JSON-encoded. It returns an error when source or typ is
// empty or data cannot be encoded.
func New(source, typ, subject string, data any) (Event, error) {
	if source == "" || typ == "" {
		return Event{}, fmt.Errorf("new event: source and type are required")
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Event{}, fmt.Errorf("new event %s: id: %w", typ, err)
	}
	body, err := json.Marshal(data)
	if err != nil {
		return Event{}, fmt.Errorf("new event %s: encode data: %w", typ, err)
	}
	return Event{
		ID:      id.String(),
		Source:  source,
		Type:    typ,
		Subject: subject,
		Time:    time.Now().UTC(),
		Data:    body,
	}, nil
}

// Header returns the NATS headers of e in binary content mode:
// ce-specversion (1.0), ce-id, ce-source, ce-type, ce-time (RFC 3339 with
// nanoseconds, when set), ce-subject (when set), Content-Type
// application/json, Nats-Msg-Id = ID, and traceparent and tracestate
// (each when set). The
// returned map is new and owned by the caller.
func (e Event) Header() nats.Header {
	h := nats.Header{}
	h.Set(HeaderSpecVersion, SpecVersion)
	h.Set(HeaderID, e.ID)
	h.Set(HeaderSource, e.Source)
	h.Set(HeaderType, e.Type)
	if !e.Time.IsZero() {
		h.Set(HeaderTime, e.Time.Format(time.RFC3339Nano))
	}
	if e.Subject != "" {
		h.Set(HeaderSubject, e.Subject)
	}
	h.Set(HeaderContentType, ContentTypeJSON)
	h.Set(HeaderMsgID, e.ID)
	if e.TraceParent != "" {
		h.Set(HeaderTraceParent, e.TraceParent)
	}
	if e.TraceState != "" {
		h.Set(HeaderTraceState, e.TraceState)
	}
	return h
}

// Parse reads an event from NATS headers and body. Header names are
// matched exactly first, then case-insensitively (other CloudEvents SDKs
// may capitalise them). It returns an error wrapping ErrMalformed when
// ce-specversion is not 1.0, ce-id, ce-source or ce-type is missing,
// ce-time is present but not RFC 3339, Content-Type is present but not
// JSON, or the body is present but not valid JSON. ce-subject, ce-time,
// traceparent and tracestate are optional, as in CloudEvents.
func Parse(h nats.Header, data []byte) (Event, error) {
	malformed := func(format string, args ...any) (Event, error) {
		return Event{}, fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
	if v := header(h, HeaderSpecVersion); v != SpecVersion {
		if v == "" {
			return malformed("missing %s", HeaderSpecVersion)
		}
		return malformed("unsupported %s %q", HeaderSpecVersion, v)
	}
	e := Event{
		ID:          header(h, HeaderID),
		Source:      header(h, HeaderSource),
		Type:        header(h, HeaderType),
		Subject:     header(h, HeaderSubject),
		TraceParent: header(h, HeaderTraceParent),
		TraceState:  header(h, HeaderTraceState),
	}
	for _, a := range [...]struct{ name, value string }{
		{HeaderID, e.ID}, {HeaderSource, e.Source}, {HeaderType, e.Type},
	} {
		if a.value == "" {
			return malformed("missing %s", a.name)
		}
	}
	if v := header(h, HeaderTime); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return malformed("invalid %s %q", HeaderTime, v)
		}
		e.Time = t
	}
	if v := header(h, HeaderContentType); v != "" && !isJSON(v) {
		return malformed("unsupported %s %q", HeaderContentType, v)
	}
	if len(data) > 0 {
		if !json.Valid(data) {
			return malformed("event %s: data is not valid JSON", e.ID)
		}
		e.Data = json.RawMessage(data)
	}
	return e, nil
}

// Decode unmarshals Data into v. Unknown fields are accepted, so a newer
// producer adding fields does not break older consumers. It returns an
// error wrapping ErrMalformed when there is no data or it does not fit v.
func (e Event) Decode(v any) error {
	if len(e.Data) == 0 {
		return fmt.Errorf("decode event %s (%s): %w: no data", e.ID, e.Type, ErrMalformed)
	}
	if err := json.Unmarshal(e.Data, v); err != nil {
		return fmt.Errorf("decode event %s (%s): %w: %w", e.ID, e.Type, ErrMalformed, err)
	}
	return nil
}

// header returns the first value of name in h, matching exactly first and
// then ignoring case.
func header(h nats.Header, name string) string {
	if v := h.Get(name); v != "" {
		return v
	}
	for k, vs := range h {
		if len(vs) > 0 && strings.EqualFold(k, name) {
			return vs[0]
		}
	}
	return ""
}

// isJSON reports whether the media type ct is application/json or a
// +json structured suffix type, with any parameters.
func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == ContentTypeJSON || strings.HasSuffix(mt, "+json")
}
