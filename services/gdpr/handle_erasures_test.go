package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/servicetest"
	"github.com/orderbus/orderbus/pkg/web"
)

// assertNothingStored fails the test when the service stored or published
// any erasure.
func (e *testEnv) assertNothingStored(t *testing.T) {
	t.Helper()
	for _, table := range []string{"erasures", "erasure_participants", "erasure_audit", "outbox"} {
		if n := e.count(t, table, ""); n != 0 {
			t.Errorf("%s holds %d rows, want none", table, n)
		}
	}
	if msgs := e.messages(t, events.StreamGDPR, "gdpr.>"); len(msgs) != 0 {
		t.Errorf("GDPR stream holds %d messages, want none", len(msgs))
	}
}

func TestErasureEndpointsRequireToken(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	body := `{"customer_id":"` + uuid.NewString() + `"}`
	tests := []struct {
		name          string
		method, path  string
		authorization string // the header's value; "" sends none
		wantError     bool   // the challenge says error="invalid_token"
	}{
		{name: "post without header", method: http.MethodPost, path: "/v1/erasures"},
		{name: "post with basic auth", method: http.MethodPost, path: "/v1/erasures", authorization: "Basic Zm9vOmJhcg=="},
		{name: "post with bare token", method: http.MethodPost, path: "/v1/erasures", authorization: testToken},
		// The trailing space does not survive HTTP: a scheme without a token.
		{name: "post with empty bearer", method: http.MethodPost, path: "/v1/erasures", authorization: "Bearer "},
		{name: "post with wrong token", method: http.MethodPost, path: "/v1/erasures", authorization: "Bearer wrong-token", wantError: true},
		{name: "post with token prefix", method: http.MethodPost, path: "/v1/erasures", authorization: "Bearer " + testToken[:10], wantError: true},
		{name: "post with token and more", method: http.MethodPost, path: "/v1/erasures", authorization: "Bearer " + testToken + "x", wantError: true},
		{name: "get without header", method: http.MethodGet, path: "/v1/erasures/" + uuid.NewString()},
		{name: "get with wrong token", method: http.MethodGet, path: "/v1/erasures/" + uuid.NewString(), authorization: "Bearer nope", wantError: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tt.method, e.URL+tt.path, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if tt.authorization != "" {
				req.Header.Set("Authorization", tt.authorization)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var p web.Problem
			if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
				t.Fatalf("decode problem: %v", err)
			}
			if resp.StatusCode != http.StatusUnauthorized || p.Type != web.ProblemUnauthorized ||
				resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s %s = %d %s %+v, want a 401 unauthorized problem", tt.method, tt.path,
					resp.StatusCode, resp.Header.Get("Content-Type"), p)
			}
			challenge := resp.Header.Get("WWW-Authenticate")
			if !strings.HasPrefix(challenge, "Bearer ") {
				t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", challenge)
			}
			if got := strings.Contains(challenge, `error="invalid_token"`); got != tt.wantError {
				t.Errorf("WWW-Authenticate = %q; invalid_token present %v, want %v", challenge, got, tt.wantError)
			}
		})
	}
	t.Cleanup(func() { e.assertNothingStored(t) })
}

func TestCreateErasureRejectsBadRequests(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	tests := []struct {
		name        string
		body        string
		contentType string
		wantCode    int
		wantType    string
		wantField   string // names the field in errors
	}{
		{name: "malformed customer id", body: `{"customer_id":"not-a-uuid"}`, wantCode: 400, wantType: web.ProblemMalformed, wantField: "customer_id"},
		{name: "customer id without hyphens", body: `{"customer_id":"` + strings.ReplaceAll(uuid.NewString(), "-", "") + `"}`, wantCode: 400, wantType: web.ProblemMalformed, wantField: "customer_id"},
		{name: "customer id in braces", body: `{"customer_id":"{` + uuid.NewString() + `}"}`, wantCode: 400, wantType: web.ProblemMalformed, wantField: "customer_id"},
		{name: "missing customer id", body: `{}`, wantCode: 400, wantType: web.ProblemMalformed, wantField: "customer_id"},
		{name: "customer id a number", body: `{"customer_id":42}`, wantCode: 400, wantType: web.ProblemMalformed},
		{name: "unknown field", body: `{"customer_id":"` + uuid.NewString() + `","reason":"asked"}`, wantCode: 400, wantType: web.ProblemMalformed},
		{name: "not JSON", body: `customer_id=1`, wantCode: 400, wantType: web.ProblemMalformed},
		{name: "two values", body: `{"customer_id":"` + uuid.NewString() + `"}{}`, wantCode: 400, wantType: web.ProblemMalformed},
		{name: "not JSON content", body: `{"customer_id":"` + uuid.NewString() + `"}`, contentType: "text/plain", wantCode: 415, wantType: web.ProblemUnsupportedMediaType},
		{name: "body too large", body: `{"customer_id":"` + strings.Repeat("a", 5000) + `"}`, wantCode: 413, wantType: web.ProblemTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(http.MethodPost, e.URL+"/v1/erasures", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			ct := tt.contentType
			if ct == "" {
				ct = "application/json"
			}
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Authorization", "Bearer "+testToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var p web.Problem
			if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
				t.Fatalf("decode problem: %v", err)
			}
			if resp.StatusCode != tt.wantCode || p.Type != tt.wantType {
				t.Errorf("POST = %d %+v, want %d %s", resp.StatusCode, p, tt.wantCode, tt.wantType)
			}
			if tt.wantField != "" && p.Errors[tt.wantField] == "" {
				t.Errorf("problem errors = %v, want one for %s", p.Errors, tt.wantField)
			}
		})
	}
	t.Cleanup(func() { e.assertNothingStored(t) })
}

// createdJSON is the answer to POST /v1/erasures.
type createdJSON struct {
	ID           string    `json:"id"`
	CustomerID   string    `json:"customer_id"`
	Status       string    `json:"status"`
	Participants []string  `json:"participants"`
	RequestedAt  time.Time `json:"requested_at"`
	Links        struct {
		Self string `json:"self"`
	} `json:"links"`
}

func TestCreateErasure(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	customer := uuid.NewString()

	// Upper case is accepted and stored canonical, as subjects use it.
	first := e.postErasure(strings.ToUpper(customer))
	if first.code != http.StatusAccepted {
		t.Fatalf("POST = %d %s, want 202", first.code, first.body)
	}
	var created createdJSON
	if err := json.Unmarshal([]byte(first.body), &created); err != nil {
		t.Fatal(err)
	}
	id, err := uuid.Parse(created.ID)
	if err != nil || id.Version() != 7 {
		t.Errorf("id %q: want a UUIDv7 (err %v)", created.ID, err)
	}
	if created.CustomerID != customer || created.Status != "pending" ||
		strings.Join(created.Participants, ",") != "order,email,sms,inventory" ||
		created.Links.Self != "/v1/erasures/"+created.ID || created.RequestedAt.IsZero() {
		t.Errorf("POST answered %s", first.body)
	}
	if loc := first.header.Get("Location"); loc != "/v1/erasures/"+created.ID {
		t.Errorf("Location = %q", loc)
	}

	// Published at once, before the answer: exactly one request event.
	msgs := e.messages(t, events.StreamGDPR, "gdpr.>")
	if len(msgs) != 1 || msgs[0].Subject != events.SubjectErasureRequested {
		t.Fatalf("GDPR stream holds %d messages, want 1 on %s", len(msgs), events.SubjectErasureRequested)
	}
	h := msgs[0].Header
	for name, want := range map[string]string{
		"ce-specversion": "1.0", "ce-type": events.TypeErasureRequested, "ce-source": "/orderbus/gdpr",
		"ce-subject": created.ID, "Content-Type": "application/json", "Nats-Msg-Id": h.Get("ce-id"),
	} {
		if got := h.Get(name); got != want || got == "" {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
	if _, err := time.Parse(time.RFC3339Nano, h.Get("ce-time")); err != nil {
		t.Errorf("ce-time %q: %v", h.Get("ce-time"), err)
	}
	var payload events.ErasureRequested
	if err := json.Unmarshal(msgs[0].Data, &payload); err != nil {
		t.Fatal(err)
	}
	if payload.ErasureID != created.ID || payload.CustomerID != customer || !payload.RequestedAt.Equal(created.RequestedAt) {
		t.Errorf("payload = %+v, want erasure %s of customer %s requested at %v", payload, created.ID, customer, created.RequestedAt)
	}

	// A repeat while it is open returns it, with 200, and publishes nothing.
	for _, form := range []string{customer, strings.ToUpper(customer)} {
		again := e.postErasure(form)
		if again.code != http.StatusOK || again.body != first.body || again.header.Get("Location") != first.header.Get("Location") {
			t.Errorf("repeated POST = %d %s, want 200 with the first body %s", again.code, again.body, first.body)
		}
	}
	// The relay deletes a row only after its PubAck: once the outbox is
	// empty, anything a repeat had enqueued would be in the stream.
	servicetest.WaitFor(t, 5*time.Second, "an empty outbox", func() (bool, string) {
		n := e.count(t, "outbox", "")
		return n == 0, fmt.Sprintf("%d events left in the outbox, want 0", n)
	})
	if msgs := e.messages(t, events.StreamGDPR, "gdpr.>"); len(msgs) != 1 {
		t.Errorf("GDPR stream holds %d messages after the repeats, want 1", len(msgs))
	}
	if n := e.count(t, "erasures", ""); n != 1 {
		t.Errorf("%d erasures stored, want 1", n)
	}

	got := e.erasure(t, created.ID)
	if got.Status != "pending" || got.CompletedAt != nil || got.CustomerID != customer ||
		got.states() != "order=pending email=pending sms=pending inventory=pending" {
		t.Errorf("GET = %+v", got)
	}
	for _, p := range got.Participants {
		if p.AnsweredAt != nil || p.Erased != nil {
			t.Errorf("participant %s of a new erasure: %+v", p.Service, p)
		}
	}

	if v := e.metric(t, "gdpr_erasures_open"); v != 1 {
		t.Errorf("gdpr_erasures_open = %v, want 1", v)
	}
	// The gauge follows the erasure's age as it grows.
	var age float64
	servicetest.WaitFor(t, 5*time.Second, "the oldest open age past 0.2 s", func() (bool, string) {
		age = e.metric(t, "gdpr_erasure_oldest_open_age_seconds")
		return age > 0.2, fmt.Sprintf("gdpr_erasure_oldest_open_age_seconds = %v", age)
	})
	if age > 60 {
		t.Errorf("gdpr_erasure_oldest_open_age_seconds = %v, want the erasure's age", age)
	}
	if v := e.metric(t, `gdpr_erasures_total{outcome="requested"}`); v != 1 {
		t.Errorf(`gdpr_erasures_total{outcome="requested"} = %v, want 1`, v)
	}
	if v := e.metric(t, `gdpr_erasures_total{outcome="repeated"}`); v != 2 {
		t.Errorf(`gdpr_erasures_total{outcome="repeated"} = %v, want 2`, v)
	}

	for _, path := range []string{"/v1/erasures/" + uuid.NewString(), "/v1/erasures/not-an-id"} {
		if res := e.do(http.MethodGet, path, testToken, ""); res.code != http.StatusNotFound ||
			!strings.Contains(res.body, web.ProblemNotFound) {
			t.Errorf("GET %s = %d %s, want a 404 problem", path, res.code, res.body)
		}
	}
}

// TestCreateErasureConcurrently sends one customer's request many times at
// once: one erasure and one event result, and every answer names it.
func TestCreateErasureConcurrently(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	customer := uuid.NewString()
	const n = 8
	ids := make([]string, n)
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res := e.postErasure(customer)
			var c createdJSON
			_ = json.Unmarshal([]byte(res.body), &c)
			ids[i], codes[i] = c.ID, res.code
		})
	}
	wg.Wait()
	accepted := 0
	for i := range n {
		if ids[i] != ids[0] || ids[i] == "" {
			t.Errorf("answer %d names erasure %q, answer 0 %q", i, ids[i], ids[0])
		}
		if codes[i] == http.StatusAccepted {
			accepted++
		} else if codes[i] != http.StatusOK {
			t.Errorf("answer %d: status %d", i, codes[i])
		}
	}
	if accepted != 1 {
		t.Errorf("%d answers were 202, want exactly 1", accepted)
	}
	servicetest.WaitFor(t, 5*time.Second, "the request event", func() (bool, string) {
		return e.count(t, "outbox", "") == 0, "outbox not empty"
	})
	if msgs := e.messages(t, events.StreamGDPR, events.SubjectErasureRequested); len(msgs) != 1 {
		t.Errorf("%d request events, want 1", len(msgs))
	}
}

func TestRequestErasureConcurrently(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	customer := uuid.New()
	const n = 8
	var (
		wg      sync.WaitGroup
		created atomic.Int32
		ids     sync.Map
	)
	for range n {
		wg.Go(func() {
			ne, err := newErasureFor(customer, []string{"order", "sms"})
			if err != nil {
				t.Error(err)
				return
			}
			e, isNew, err := requestErasure(context.Background(), s, ne)
			if err != nil {
				t.Error(err)
				return
			}
			if isNew {
				created.Add(1)
			}
			ids.Store(e.ID, true)
		})
	}
	wg.Wait()
	distinct := 0
	ids.Range(func(any, any) bool { distinct++; return true })
	if created.Load() != 1 || distinct != 1 {
		t.Errorf("%d created, %d distinct erasures returned; want 1 and 1", created.Load(), distinct)
	}
	var outbox int
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox`).Scan(&outbox); err != nil || outbox != 1 {
		t.Errorf("outbox holds %d events (%v), want 1", outbox, err)
	}
}
