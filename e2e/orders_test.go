package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/events"
)

// An accepted order produces exactly one receipt, to the customer, naming
// the order and its items, with a Message-ID derived from the event id.
func TestOrderGetsOneReceipt(t *testing.T) {
	t.Parallel()
	const mailDomain = "e2e.orderbus.test"
	sys := newSystem(t, map[string]map[string]string{"email": {"MAIL_DOMAIN": mailDomain}})
	mc := mailbox(t, sys)
	js := jetStream(t, sys)

	o := sampleOrder()
	id := placeOrder(t, sys, o)
	getOrder(t, sys, id)
	msgs := waitExactlyOnce(t, sys, mc, map[string]orderRequest{id: o}, time.Minute)
	if len(msgs) != 1 {
		t.FailNow()
	}
	m := msgs[0]

	for _, want := range []string{id, "ESPRESSO-1KG", "MUG-WHITE"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text body does not name %q:\n%s", want, m.Text)
		}
	}
	if !strings.Contains(m.HTML, id) {
		t.Errorf("HTML body does not name the order %s:\n%s", id, m.HTML)
	}
	if got := m.Header("X-Order-Id"); got != id {
		t.Errorf("X-Order-Id = %q, want %s", got, id)
	}

	// The Message-ID is <event id@MAIL_DOMAIN>, so a resent receipt is
	// recognisably the same mail.
	stream, err := js.Stream(t.Context(), events.StreamOrders)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := stream.GetLastMsgForSubject(t.Context(), events.OrderPlacedSubject(o.Customer.ID))
	if err != nil {
		t.Fatalf("order placed event of customer %s: %v", o.Customer.ID, err)
	}
	if typ := raw.Header.Get(events.HeaderType); typ != events.TypeOrderPlaced {
		t.Errorf("event type %q, want %s", typ, events.TypeOrderPlaced)
	}
	eventID := raw.Header.Get(events.HeaderID)
	want := eventID + "@" + mailDomain
	if got := strings.Trim(m.MessageID, "<> "); got != want {
		t.Errorf("Message-ID = %q, want <%s>", m.MessageID, want)
	}
	if got := strings.Trim(m.Header("Message-ID"), "<> "); got != want {
		t.Errorf("Message-ID header = %q, want <%s>", m.Header("Message-ID"), want)
	}
}

// Requests the API must refuse are answered with a problem+json error, and
// leave no trace: nothing stored, nothing published, no mail.
func TestInvalidOrdersLeaveNoTrace(t *testing.T) {
	t.Parallel()
	sys := newSystem(t, nil)
	mc := mailbox(t, sys)
	js := jetStream(t, sys)

	valid := func(change func(o *orderRequest)) []byte {
		o := sampleOrder()
		change(&o)
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	unknownField := bytes.Replace(valid(func(*orderRequest) {}), []byte(`{"customer"`), []byte(`{"coupon":"FREE","customer"`), 1)
	huge := valid(func(o *orderRequest) { o.Customer.Name = strings.Repeat("x", 1<<20+1) })

	tests := []struct {
		name        string
		contentType string
		body        []byte
		status      int
		problemType string
		field       string // a key of the problem's errors should contain it
	}{
		{"malformed JSON", "application/json", []byte(`{"customer": {"id": `), http.StatusBadRequest, "/malformed", ""},
		{"not an object", "application/json", []byte(`[1, 2]`), http.StatusBadRequest, "/malformed", ""},
		{"unknown field", "application/json", unknownField, http.StatusBadRequest, "/malformed", ""},
		{"empty object", "application/json", []byte(`{}`), http.StatusUnprocessableEntity, "/validation", "customer"},
		{"no items", "application/json", valid(func(o *orderRequest) { o.Items = nil }), http.StatusUnprocessableEntity, "/validation", "items"},
		{"missing email", "application/json", valid(func(o *orderRequest) { o.Customer.Email = "" }), http.StatusUnprocessableEntity, "/validation", "email"},
		{"invalid email", "application/json", valid(func(o *orderRequest) { o.Customer.Email = "ada.example.com" }), http.StatusUnprocessableEntity, "/validation", "email"},
		{"invalid phone", "application/json", valid(func(o *orderRequest) { o.Customer.Phone = "0171 1234" }), http.StatusUnprocessableEntity, "/validation", "phone"},
		{"invalid customer id", "application/json", valid(func(o *orderRequest) { o.Customer.ID = "42" }), http.StatusUnprocessableEntity, "/validation", "id"},
		{"zero quantity", "application/json", valid(func(o *orderRequest) { o.Items[0].Quantity = 0 }), http.StatusUnprocessableEntity, "/validation", "quantity"},
		{"body over 1 MiB", "application/json", huge, http.StatusRequestEntityTooLarge, "/too-large", ""},
		{"not JSON", "text/plain", valid(func(*orderRequest) {}), http.StatusUnsupportedMediaType, "/unsupported-media-type", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body, err := post(t.Context(), sys.OrderURL()+"/v1/orders", tt.contentType, tt.body)
			if err != nil {
				t.Fatalf("POST /v1/orders: %v", err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %s, want %d; body: %.500s", resp.Status, tt.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
				t.Errorf("Content-Type %q, want application/problem+json", ct)
			}
			var p struct {
				Type   string            `json:"type"`
				Title  string            `json:"title"`
				Status int               `json:"status"`
				Errors map[string]string `json:"errors"`
			}
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatalf("problem body %.500s: %v", body, err)
			}
			if p.Status != tt.status || !strings.HasSuffix(p.Type, tt.problemType) || p.Title == "" {
				t.Errorf("problem %+v, want status %d and a type ending in %s, with a title", p, tt.status, tt.problemType)
			}
			if tt.field != "" && !hasKeyContaining(p.Errors, tt.field) {
				t.Errorf("problem errors %v name no field containing %q", p.Errors, tt.field)
			}
		})
	}

	for table, n := range storedRows(t, sys, "order") {
		if n != 0 {
			t.Errorf("order database: table %s has %d rows after refused requests, want 0", table, n)
		}
	}
	if n := mustStreamMessages(t, js, events.StreamOrders, ""); n != 0 {
		t.Errorf("stream %s holds %d messages after refused requests, want 0", events.StreamOrders, n)
	}

	// A valid order afterwards is the fence: once its receipt is in and the
	// system has settled, any mail a refused request caused would be too.
	o := sampleOrder()
	id := placeOrder(t, sys, o)
	waitExactlyOnce(t, sys, mc, map[string]orderRequest{id: o}, time.Minute)
	if n := mustStreamMessages(t, js, events.StreamOrders, events.FilterOrderPlaced); n != 1 {
		t.Errorf("stream %s holds %d order placed events, want only the valid order's", events.StreamOrders, n)
	}
	// Its confirmation follows it in the stream; nothing of anyone else.
	for _, stream := range []string{events.StreamOrders, events.StreamInventory} {
		for subject := range mustStreamSubjects(t, js, stream) {
			if !strings.HasSuffix(subject, "."+o.Customer.ID) {
				t.Errorf("stream %s holds a message on %s, which is not about the valid order's customer", stream, subject)
			}
		}
	}
	for service, table := range map[string]string{"inventory": "reservations", "sms": "messages"} {
		if n, err := countRows(t.Context(), sys.DatabaseURL(service), table); err != nil || n != 1 {
			t.Errorf("%s database: %d rows in %s (%v), want only the valid order's", service, n, table, err)
		}
	}
}

func hasKeyContaining(m map[string]string, s string) bool {
	for k := range m {
		if strings.Contains(strings.ToLower(k), s) {
			return true
		}
	}
	return false
}
