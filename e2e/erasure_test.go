package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/e2e/launcher"
	"github.com/orderbus/orderbus/pkg/events"
)

// erasureView is what GET /v1/erasures/{id} shows.
type erasureView struct {
	ID           string     `json:"id"`
	CustomerID   string     `json:"customer_id"`
	Status       string     `json:"status"`
	PurgedAt     *time.Time `json:"purged_at"`
	Waiting      []string   `json:"waiting"`
	Participants []struct {
		Service      string           `json:"service"`
		State        string           `json:"state"`
		Erased       map[string]int64 `json:"erased"`
		Verification *struct {
			Remaining  map[string]int64  `json:"remaining"`
			Suppressed int64             `json:"suppressed"`
			Consumers  map[string]uint64 `json:"consumers"`
		} `json:"verification"`
	} `json:"participants"`
}

// requestErasure asks the gdpr service to erase customer and returns the
// erasure id.
func requestErasure(t *testing.T, sys *launcher.System, customer string) string {
	t.Helper()
	var e struct {
		ID string `json:"id"`
	}
	code, body, err := gdprDo(t.Context(), sys, http.MethodPost, "/v1/erasures", sys.OperatorToken(),
		map[string]string{"customer_id": customer}, &e)
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("POST /v1/erasures: %d %s %v", code, body, err)
	}
	return e.ID
}

func gdprDo(ctx context.Context, sys *launcher.System, method, path, token string, body, v any) (int, []byte, error) {
	return doJSONAuth(ctx, method, sys.ServiceURL("gdpr")+path, token, body, v)
}

// waitErasure polls the erasure until done reports true of it.
func waitErasure(t *testing.T, sys *launcher.System, id string, what string, done func(erasureView) bool) erasureView {
	t.Helper()
	var e erasureView
	eventually(t, time.Minute, what, func(ctx context.Context) (bool, string) {
		code, body, err := gdprDo(ctx, sys, http.MethodGet, "/v1/erasures/"+id, sys.OperatorToken(), nil, &e)
		if err != nil || code != http.StatusOK {
			return false, fmt.Sprintf("GET: %d %s %v", code, body, err)
		}
		return done(e), string(body)
	})
	return e
}

func completed(e erasureView) bool { return e.Status == "completed" }

// TestErasureReachesEveryService erases a customer with three orders
// (mails, SMS and reservations done) and checks every service's database
// and every stream for anything left of them, and that another customer
// lost nothing.
func TestErasureReachesEveryService(t *testing.T) {
	t.Parallel()
	sys := newSystem(t, nil)
	erased, kept := sampleOrder(), sampleOrder()
	erased.Customer.Name = "Grace Hopper " + erased.Customer.ID[:8]
	orders := map[string]orderRequest{}
	for range 3 {
		orders[placeOrder(t, sys, erased)] = erased
	}
	keptID := placeOrder(t, sys, kept)
	orders[keptID] = kept
	mc := mailbox(t, sys)
	waitMailsExactlyOnce(t, sys, mc, orders, nil, time.Minute)
	waitTexts(t, sys, orders, time.Minute)

	id := requestErasure(t, sys, erased.Customer.ID)
	e := waitErasure(t, sys, id, "erasure completed", completed)
	for _, p := range e.Participants {
		if p.State != "verified" {
			t.Errorf("participant %s: state %s, want verified", p.Service, p.State)
		}
	}
	t.Logf("erased: %+v", e.Participants)

	personal := []string{erased.Customer.ID, erased.Customer.Email, erased.Customer.Phone, erased.Customer.Name}
	for _, svc := range sys.Services() {
		look := personal
		if svc == "gdpr" {
			look = personal[1:] // the erasure's own record names the customer it erased, and nothing more
		}
		if found := findInDatabase(t, sys.DatabaseURL(svc), look, tombstoneTables...); len(found) > 0 {
			t.Errorf("%s's database still holds the erased customer's data: %v", svc, found)
		}
	}
	js := jetStream(t, sys)
	for _, stream := range []string{events.StreamOrders, events.StreamInventory, events.StreamDLQ} {
		for subject := range mustStreamSubjects(t, js, stream) {
			if strings.HasSuffix(subject, "."+erased.Customer.ID) {
				t.Errorf("stream %s still holds %s", stream, subject)
			}
		}
	}

	// The other customer keeps everything.
	if o := getOrder(t, sys, keptID); o.Status != "confirmed" {
		t.Errorf("kept customer's order: status %q, want confirmed", o.Status)
	}
	for _, svc := range []string{"order", "email", "sms", "inventory"} {
		if found := findInDatabase(t, sys.DatabaseURL(svc), []string{kept.Customer.ID}); len(found) == 0 {
			t.Errorf("%s's database lost the kept customer", svc)
		}
	}
	if n := mustStreamSubjects(t, js, events.StreamOrders)[events.OrderPlacedSubject(kept.Customer.ID)]; n != 1 {
		t.Errorf("ORDERS holds %d orders.placed of the kept customer, want 1", n)
	}
	if texts, err := textsTo(t.Context(), sys, kept.Customer.Phone); err != nil || len(texts) != 1 {
		t.Errorf("kept customer's SMS: %d (%v), want 1", len(texts), err)
	}
}

// TestErasureWaitsForADownService erases a customer while the sms service
// is down: the erasure stays pending, naming sms as the one not answered,
// and completes once sms is back, leaving nothing of the customer there.
func TestErasureWaitsForADownService(t *testing.T) {
	t.Parallel()
	sys := newSystem(t, nil)
	o := sampleOrder()
	orders := map[string]orderRequest{placeOrder(t, sys, o): o}
	waitTexts(t, sys, orders, time.Minute)
	waitSettled(t, sys, time.Minute)

	if err := sys.StopService(t.Context(), "sms"); err != nil {
		t.Fatal(err)
	}
	id := requestErasure(t, sys, o.Customer.ID)
	e := waitErasure(t, sys, id, "every participant but sms answered", func(e erasureView) bool {
		for _, p := range e.Participants {
			if (p.Service == "sms") != (p.State == "pending") {
				return false
			}
		}
		return true
	})
	if e.Status != "pending" {
		t.Fatalf("erasure with sms down: status %s, want pending", e.Status)
	}

	if err := sys.StartService(t.Context(), "sms"); err != nil {
		t.Fatal(err)
	}
	waitErasure(t, sys, id, "erasure completed after sms is back", completed)
	if found := findInDatabase(t, sys.DatabaseURL("sms"), []string{o.Customer.ID, o.Customer.Phone}, tombstoneTables...); len(found) > 0 {
		t.Errorf("sms database still holds the customer: %v", found)
	}
}

// TestErasureRefusesBadRequests checks that a request without the token or
// with a malformed customer id is refused and publishes nothing.
func TestErasureRefusesBadRequests(t *testing.T) {
	t.Parallel()
	sys := newSystem(t, nil)
	tests := []struct {
		name  string
		token string
		body  any
		want  int
	}{
		{"no token", "", map[string]string{"customer_id": sampleOrder().Customer.ID}, http.StatusUnauthorized},
		{"wrong token", "not-the-token", map[string]string{"customer_id": sampleOrder().Customer.ID}, http.StatusUnauthorized},
		{"malformed customer id", sys.OperatorToken(), map[string]string{"customer_id": "42"}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		code, body, err := gdprDo(t.Context(), sys, http.MethodPost, "/v1/erasures", tt.token, tt.body, nil)
		if err != nil || code != tt.want {
			t.Errorf("%s: %d %s %v, want %d", tt.name, code, body, err, tt.want)
		}
	}
	if n := mustStreamMessages(t, jetStream(t, sys), events.StreamGDPR, ">"); n != 0 {
		t.Errorf("GDPR stream holds %d messages after refused requests, want 0", n)
	}
	if rows := storedRows(t, sys, "gdpr"); sum(rows) != 0 {
		t.Errorf("gdpr stored %v after refused requests, want nothing", rows)
	}
}

func sum(m map[string]int64) (n int64) {
	for _, v := range m {
		n += v
	}
	return n
}

// findInDatabase returns, for each table of the database at url (but
// skip) that has a row whose JSON form contains one of the values, the
// table and the number of such rows.
func findInDatabase(t *testing.T, url string, values []string, skip ...string) map[string]int64 {
	t.Helper()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'goose%'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	patterns := make([]string, len(values))
	for i, v := range values {
		patterns[i] = "%" + strings.ToLower(v) + "%"
	}
	found := map[string]int64{}
	for _, table := range tables {
		if slices.Contains(skip, table) {
			continue
		}
		var n int64
		q := fmt.Sprintf(`SELECT count(*) FROM %[1]s WHERE lower(row_to_json(%[1]s)::text) LIKE ANY($1)`,
			pgx.Identifier{table}.Sanitize())
		if err := conn.QueryRow(ctx, q, patterns).Scan(&n); err != nil {
			t.Fatalf("search %s: %v", table, err)
		}
		if n > 0 {
			found[table] = n
		}
	}
	return found
}
