package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/orderbus/orderbus/pkg/auth"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

// mint returns a token signed with the test services' key.
func mint(t *testing.T, subject string, roles ...string) string {
	t.Helper()
	tok, err := auth.MustKeys(servicetest.AuthKey).Mint(subject, time.Hour, roles...)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestErasureAuthorization: erasure:write requests anyone's erasure; a
// customer (full customer token) requests and reads its own only; an
// order token, an operator without the role and another customer are
// refused (403 on POST, 404 on another's erasure); no token is 401.
func TestErasureAuthorization(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	ada, bob := uuid.NewString(), uuid.NewString()
	orderToken, err := auth.MustKeys(servicetest.AuthKey).MintOrder(ada, uuid.NewString(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"customer_id":"` + ada + `"}`
	for _, tt := range []struct {
		name, token string
		want        int
	}{
		{"no credential", "", 401},
		{"operator without erasure:write", mint(t, "ops", auth.RoleStockWrite), 403},
		{"another customer", mint(t, bob), 403},
		{"an order token of the customer", orderToken, 403},
	} {
		if res := e.do(http.MethodPost, "/v1/erasures", tt.token, body); res.code != tt.want {
			t.Errorf("POST %s: %d, want %d: %s", tt.name, res.code, tt.want, res.body)
		}
	}
	if n := e.count(t, "erasures", ""); n != 0 {
		t.Fatalf("refused requests stored %d erasures", n)
	}

	own := e.do(http.MethodPost, "/v1/erasures", mint(t, ada), body)
	if own.code != http.StatusAccepted {
		t.Fatalf("the customer's own erasure: %d %s", own.code, own.body)
	}
	var created struct{ ID string }
	if err := json.Unmarshal([]byte(own.body), &created); err != nil {
		t.Fatal(err)
	}
	if res := e.do(http.MethodPost, "/v1/erasures", testToken, `{"customer_id":"`+bob+`"}`); res.code != http.StatusAccepted {
		t.Fatalf("erasure:write for another customer: %d %s", res.code, res.body)
	}

	path := "/v1/erasures/" + created.ID
	for _, tt := range []struct {
		name, token string
		want        int
	}{
		{"no credential", "", 401},
		{"operator without a reading role", mint(t, "ops", auth.RoleStockWrite), 403},
		{"another customer", mint(t, bob), 404},
		{"the customer", mint(t, ada), 200},
		{"operator:read", mint(t, "ops", auth.RoleOperatorRead), 200},
		{"erasure:write", mint(t, "ops", auth.RoleErasureWrite), 200},
	} {
		res := e.do(http.MethodGet, path, tt.token, "")
		if res.code != tt.want {
			t.Errorf("GET %s: %d, want %d: %s", tt.name, res.code, tt.want, res.body)
		}
		if tt.want == 401 && !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Bearer ") {
			t.Errorf("GET %s: WWW-Authenticate %q", tt.name, res.header.Get("WWW-Authenticate"))
		}
	}
}

// TestCreateErasureRateLimit: past RATE_LIMIT_ERASURES a client gets 429
// with Retry-After and nothing is stored; another client is unaffected.
func TestCreateErasureRateLimit(t *testing.T) {
	t.Parallel()
	e := startEnv(t, map[string]string{"RATE_LIMIT_ERASURES": "2", "RATE_LIMIT_IP_HEADER": "X-Real-IP"})
	post := func(client string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, e.URL+"/v1/erasures", strings.NewReader(`{"customer_id":"`+uuid.NewString()+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("X-Real-IP", client)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	for i := range 2 {
		if code, _ := post("198.51.100.1"); code != http.StatusAccepted {
			t.Fatalf("request %d: %d", i, code)
		}
	}
	code, retry := post("198.51.100.1")
	if n, err := strconv.Atoi(retry); code != http.StatusTooManyRequests || err != nil || n < 1 {
		t.Fatalf("third request: %d Retry-After %q, want 429 with seconds", code, retry)
	}
	if n := e.count(t, "erasures", ""); n != 2 {
		t.Errorf("erasures holds %d rows, want 2", n)
	}
	if code, _ := post("198.51.100.2"); code != http.StatusAccepted {
		t.Errorf("another client: %d, want 202", code)
	}
}
