package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/auth"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natstest"
	"github.com/orderbus/orderbus/pkg/pgdb"
	"github.com/orderbus/orderbus/pkg/pgtest"
	"github.com/orderbus/orderbus/pkg/servicetest"
	"github.com/orderbus/orderbus/pkg/stack"
)

// testToken is an operator's token (erasure:write and operator:read),
// signed with the AUTH_JWT_KEY servicetest.Start gives every test service.
var testToken = func() string {
	tok, err := auth.MustKeys(servicetest.AuthKey).Mint("ops-gdpr-test", 24*time.Hour, auth.RoleErasureWrite, auth.RoleOperatorRead)
	if err != nil {
		panic(err)
	}
	return tok
}()

// testEnv is one running gdpr service with its own nats-server and
// database, plus the test's own connections to both.
type testEnv struct {
	*servicetest.Service
	nats *stack.NATS
	js   jetstream.JetStream
	db   *pgxpool.Pool
}

// startEnv starts a nats-server, a database and the service, and waits
// for /readyz. env overrides variables (see startService).
func startEnv(t *testing.T, env map[string]string) *testEnv {
	t.Helper()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	e := startService(t, srv, env)
	e.js = js
	e.WaitReady(t)
	return e
}

// startService starts the service against srv and a fresh database (with
// fast retries) without waiting for it. env overrides variables. The
// service is stopped at cleanup, and run must then return nil.
func startService(t *testing.T, srv *stack.NATS, env map[string]string) *testEnv {
	t.Helper()
	dbURL := cluster.NewDatabase(t)
	vars := map[string]string{
		"DATABASE_URL":         dbURL,
		"LOG_LEVEL":            "debug",
		"LOG_FORMAT":           "text",
		"SHUTDOWN_TIMEOUT":     "10s",
		"OUTBOX_INTERVAL":      "100ms",
		"CONSUMER_CONCURRENCY": "4",
		"CONSUMER_BACKOFF":     "50ms,100ms,200ms",
		"RATE_LIMIT_ERASURES":  "0", // off; TestCreateErasureRateLimit turns it on
	}
	// The service connects as its own NATS identity, so its tests prove
	// its permissions suffice.
	maps.Copy(vars, natstest.ServiceEnv(srv, serviceName))
	maps.Copy(vars, env)
	e := &testEnv{Service: servicetest.Start(t, run, vars), nats: srv}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	if e.db, err = pgdb.Open(ctx, dbURL, pgdb.Limits{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.db.Close)
	return e
}

// response is what do received.
type response struct {
	code   int
	header http.Header
	body   string
}

// do sends a request with Authorization: Bearer token (none when token is
// "") and a JSON body (none when body is ""), and returns the response;
// code 0 and the error text when it cannot be sent. Safe in any goroutine.
func (e *testEnv) do(method, path, token, body string) response {
	req, err := http.NewRequest(method, e.URL+path, strings.NewReader(body))
	if err != nil {
		return response{body: err.Error()}
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return response{body: err.Error()}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{code: resp.StatusCode, header: resp.Header, body: string(b)}
}

// newTestStore returns a Store on a fresh, migrated database.
func newTestStore(t *testing.T) *Store {
	t.Helper()
	sets, err := migrationSets()
	if err != nil {
		t.Fatal(err)
	}
	return &Store{pool: cluster.NewPool(t, sets...)}
}

// mustRequest stores a new erasure of a new customer, asking participants.
func mustRequest(t *testing.T, s *Store, participants ...string) erasure {
	t.Helper()
	n, err := newErasureFor(uuid.New(), participants)
	if err != nil {
		t.Fatal(err)
	}
	e, created, err := requestErasure(context.Background(), s, n)
	if err != nil || !created {
		t.Fatalf("requestErasure = %v, %v; want a new erasure", created, err)
	}
	return e
}

// mustAnswer records service's answer to e with a fresh message id.
func mustAnswer(t *testing.T, s *Store, e erasure, service string, at time.Time, erased map[string]int64) string {
	t.Helper()
	outcome, err := recordAnswer(context.Background(), s, answer{
		Consumer: durableCompletions, MessageID: uuid.NewString(), ErasureID: e.ID, CustomerID: e.CustomerID,
		Service: service, Erased: erased, AnsweredAt: at.UTC().Truncate(time.Microsecond),
	})
	if err != nil {
		t.Fatalf("recordAnswer %s: %v", service, err)
	}
	return outcome
}

// mustVerify records service's verification of e (purged) with a fresh
// message id, and returns the outcome.
func mustVerify(t *testing.T, s *Store, e erasure, service string) string {
	t.Helper()
	outcome, err := recordVerification(context.Background(), s, verified{
		MessageID: uuid.NewString(), ErasureID: e.ID, CustomerID: e.CustomerID, Service: service,
		Report:     verification{Remaining: map[string]int64{}, Consumers: map[string]uint64{service: 1}},
		VerifiedAt: time.Now().UTC().Truncate(time.Microsecond),
	})
	if err != nil {
		t.Fatalf("recordVerification %s: %v", service, err)
	}
	return outcome
}

// erasureJSON is an erasure as GET /v1/erasures/{id} answers it.
type erasureJSON struct {
	ID           string       `json:"id"`
	CustomerID   string       `json:"customer_id"`
	Status       string       `json:"status"`
	RequestedAt  time.Time    `json:"requested_at"`
	CompletedAt  *time.Time   `json:"completed_at"`
	PurgedAt     *time.Time   `json:"purged_at"`
	Purge        *purgeResult `json:"purge"`
	Waiting      []string     `json:"waiting"`
	Participants []struct {
		Service      string           `json:"service"`
		State        string           `json:"state"`
		AnsweredAt   *time.Time       `json:"answered_at"`
		Erased       map[string]int64 `json:"erased"`
		VerifiedAt   *time.Time       `json:"verified_at"`
		Verification *verification    `json:"verification"`
	} `json:"participants"`
	Links struct {
		Self string `json:"self"`
	} `json:"links"`
}

// states returns "service=state" for each participant, in order.
func (e erasureJSON) states() string {
	var out []string
	for _, p := range e.Participants {
		out = append(out, p.Service+"="+p.State)
	}
	return strings.Join(out, " ")
}

// erasure GETs the erasure id, failing the test unless it answers 200.
func (e *testEnv) erasure(t *testing.T, id string) erasureJSON {
	t.Helper()
	res := e.do(http.MethodGet, "/v1/erasures/"+id, testToken, "")
	if res.code != http.StatusOK {
		t.Fatalf("GET /v1/erasures/%s = %d %s", id, res.code, res.body)
	}
	var out erasureJSON
	if err := json.Unmarshal([]byte(res.body), &out); err != nil {
		t.Fatalf("decode erasure: %v: %s", err, res.body)
	}
	return out
}

// waitErasure polls the erasure id until cond holds.
func (e *testEnv) waitErasure(t *testing.T, id, what string, cond func(erasureJSON) bool) erasureJSON {
	t.Helper()
	var last erasureJSON
	servicetest.WaitFor(t, 20*time.Second, what, func() (bool, string) {
		last = e.erasure(t, id)
		return cond(last), fmt.Sprintf("status %s, participants %s", last.Status, last.states())
	})
	return last
}

// answerEvent returns a participant's erasure completed event.
func answerEvent(t *testing.T, erasureID, customerID, service string, erased map[string]int64) events.Event {
	t.Helper()
	ev, err := events.New("/orderbus/"+service, events.TypeErasureCompleted, erasureID, events.ErasureCompleted{
		ErasureID: erasureID, CustomerID: customerID, Service: service, Erased: erased,
		CompletedAt: time.Now().UTC(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// answer publishes a participant's answer on its subject and returns the
// event and its GDPR stream sequence.
func (e *testEnv) answer(t *testing.T, erasureID, customerID, service string, erased map[string]int64) (events.Event, uint64) {
	t.Helper()
	ev := answerEvent(t, erasureID, customerID, service, erased)
	return ev, e.publish(t, &nats.Msg{Subject: events.ErasureCompletedSubject(service), Header: ev.Header(), Data: ev.Data})
}

// verifyAll waits for the erasure's verification request (published once
// every participant answered and the streams are purged), checks it, and
// publishes each service's verification; it returns the request.
func (e *testEnv) verifyAll(t *testing.T, erasureID, customerID string, services ...string) events.ErasureVerify {
	t.Helper()
	var req events.ErasureVerify
	servicetest.WaitFor(t, 20*time.Second, "the verification request", func() (bool, string) {
		for _, m := range servicetest.StreamMsgs(t, e.js, events.StreamGDPR, events.SubjectErasureVerify) {
			ev, err := events.Parse(m.Header, m.Data)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Type != events.TypeErasureVerify {
				t.Errorf("verify request of type %s", ev.Type)
			}
			if err := ev.Decode(&req); err != nil {
				t.Fatal(err)
			}
			if req.ErasureID == erasureID {
				return true, ""
			}
		}
		return false, "no verification request yet"
	})
	if req.CustomerID != customerID || req.RequestedAt.IsZero() || len(req.Bounds) == 0 {
		t.Errorf("verification request = %+v, want the customer, the cut-off and the purge bounds", req)
	}
	for _, service := range services {
		ev, err := events.New("/orderbus/"+service, events.TypeErasureVerified, erasureID, events.ErasureVerified{
			ErasureID: erasureID, CustomerID: customerID, Service: service, Remaining: map[string]int64{"rows": 0},
			Consumers: map[string]uint64{service: req.Bounds[events.StreamOrders]}, VerifiedAt: time.Now().UTC(),
		})
		if err != nil {
			t.Fatal(err)
		}
		e.publish(t, &nats.Msg{Subject: events.ErasureVerifiedSubject(service), Header: ev.Header(), Data: ev.Data})
	}
	return req
}

// publish publishes msg as is and returns its stream sequence; a message
// dropped as a duplicate fails the test.
func (e *testEnv) publish(t *testing.T, msg *nats.Msg) uint64 {
	t.Helper()
	return servicetest.MustPublish(t, e.js, msg)
}

// settled waits until the completions consumer has acknowledged (or
// terminated) every GDPR message up to sequence seq and holds none.
func (e *testEnv) settled(t *testing.T, seq uint64) {
	t.Helper()
	servicetest.WaitFor(t, 20*time.Second, "the completions consumer to settle", func() (bool, string) {
		return servicetest.Settled(e.js, events.StreamGDPR, durableCompletions, seq)
	})
}

// subjects returns how many messages stream holds on each subject
// matching filter.
func (e *testEnv) subjects(t *testing.T, stream, filter string) map[string]uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := e.js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		t.Fatalf("stream %s info: %v", stream, err)
	}
	if info.State.Subjects == nil {
		return map[string]uint64{}
	}
	return info.State.Subjects
}

// messages returns the messages of stream on subjects matching filter, oldest first.
func (e *testEnv) messages(t *testing.T, stream, filter string) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cons, err := e.js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}})
	if err != nil {
		t.Fatal(err)
	}
	var out []*jetstream.RawStreamMsg
	for {
		batch, err := cons.FetchNoWait(100)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			out = append(out, &jetstream.RawStreamMsg{Subject: m.Subject(), Header: m.Headers(), Data: m.Data()})
		}
		if n == 0 {
			return out
		}
	}
}

// deadLettered returns the DLQ copy the completions consumer made of the
// event eventID, published on subject, or nil.
func (e *testEnv) deadLettered(t *testing.T, subject, eventID string) *jetstream.RawStreamMsg {
	t.Helper()
	for _, m := range servicetest.DeadLetters(t, e.js, durableCompletions, subject) {
		if m.Header.Get(events.HeaderID) == eventID {
			return m
		}
	}
	return nil
}

// count returns the number of rows of table matching where ("" for all).
func (e *testEnv) count(t *testing.T, table, where string, args ...any) int {
	t.Helper()
	return pgtest.Count(t, e.db, table, where, args...)
}

// metric returns the value of the /metrics sample series, e.g.
// gdpr_erasures_total{outcome="completed"}, or -1 when absent.
func (e *testEnv) metric(t *testing.T, series string) float64 {
	t.Helper()
	v, ok := e.Metric(t, series)
	if !ok {
		return -1
	}
	return v
}

// seedCustomerMessages publishes one message on each customer subject of
// ORDERS, INVENTORY and DLQ for customerID, and returns the subjects.
func (e *testEnv) seedCustomerMessages(t *testing.T, customerID string) []string {
	t.Helper()
	subjects := []string{
		events.OrderPlacedSubject(customerID),
		events.OrderConfirmedSubject(customerID),
		events.InventoryReservedSubject(customerID),
		events.InventoryRejectedSubject(customerID),
		events.DLQSubject("email", events.OrderPlacedSubject(customerID)),
		events.DLQSubject("order-inventory", events.InventoryRejectedSubject(customerID)),
	}
	for _, s := range subjects {
		e.publish(t, &nats.Msg{Subject: s, Header: nats.Header{events.HeaderMsgID: {uuid.NewString()}},
			Data: []byte(`{"customer":{"id":"` + customerID + `","email":"someone@example.com"}}`)})
	}
	return subjects
}

// customerMessages returns how many messages ORDERS, INVENTORY and DLQ
// hold on each subject ending with customerID.
func (e *testEnv) customerMessages(t *testing.T, customerID string) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	for stream, filter := range map[string]string{
		events.StreamOrders: "orders.>", events.StreamInventory: "inventory.>", events.StreamDLQ: "dlq.>",
	} {
		for subj, n := range e.subjects(t, stream, filter) {
			if strings.HasSuffix(subj, "."+customerID) {
				out[subj] = n
			}
		}
	}
	return out
}

// postErasure POSTs an erasure request for customerID with the test token.
func (e *testEnv) postErasure(customerID string) response {
	return e.do(http.MethodPost, "/v1/erasures", testToken, `{"customer_id":"`+customerID+`"}`)
}
