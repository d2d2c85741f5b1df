package auth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	keyA = "test-key-a-0123456789abcdef0123456789"
	keyB = "test-key-b-0123456789abcdef0123456789"
)

func TestMintVerify(t *testing.T) {
	t.Parallel()
	current := MustKeys(keyA)
	rotated := MustKeys(keyB, keyA) // keyA is now a previous key
	other := MustKeys(keyB)
	token, err := current.Mint("ops-alice", time.Hour, RoleOperatorRead, RoleStockWrite)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		keys *Keys
		want error
	}{
		{name: "same key", keys: current},
		{name: "previous key during rotation", keys: rotated},
		{name: "unknown key", keys: other, want: ErrInvalidToken},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := tt.keys.Verify(token)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("Verify = %+v, %v; want %v", c, err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject != "ops-alice" || !c.Has(RoleOperatorRead) || !c.Has(RoleStockWrite) || c.Has(RoleDLQWrite) {
				t.Fatalf("caller = %+v", c)
			}
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	t.Parallel()
	keys := MustKeys(keyA)
	sign := func(method jwt.SigningMethod, key any, claims jwt.Claims) string {
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	valid := func() jwt.RegisteredClaims {
		return jwt.RegisteredClaims{Issuer: Issuer, Subject: "x", ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}
	}
	expired := valid()
	expired.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Hour))
	otherIssuer := valid()
	otherIssuer.Issuer = "someone"
	noExpiry := valid()
	noExpiry.ExpiresAt = nil
	noSubject := valid()
	noSubject.Subject = ""
	for _, tt := range []struct {
		name, token string
		want        error
	}{
		{name: "expired", token: sign(jwt.SigningMethodHS256, []byte(keyA), expired), want: ErrExpiredToken},
		{name: "other issuer", token: sign(jwt.SigningMethodHS256, []byte(keyA), otherIssuer), want: ErrInvalidToken},
		{name: "no expiry", token: sign(jwt.SigningMethodHS256, []byte(keyA), noExpiry), want: ErrInvalidToken},
		{name: "no subject", token: sign(jwt.SigningMethodHS256, []byte(keyA), noSubject), want: ErrInvalidToken},
		{name: "HS512", token: sign(jwt.SigningMethodHS512, []byte(keyA), valid()), want: ErrInvalidToken},
		{name: "alg none", token: sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid()), want: ErrInvalidToken},
		{name: "garbage", token: "not.a.token", want: ErrInvalidToken},
		{name: "empty", token: "", want: ErrInvalidToken},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if c, err := keys.Verify(tt.token); !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %+v, %v; want %v", c, err, tt.want)
			}
		})
	}
}

func TestMintRefuses(t *testing.T) {
	t.Parallel()
	keys := MustKeys(keyA)
	if _, err := keys.Mint("", time.Hour); err == nil {
		t.Error("empty subject minted")
	}
	if _, err := keys.Mint("x", 0); err == nil {
		t.Error("zero ttl minted")
	}
	if _, err := keys.Mint("x", time.Hour, "root"); err == nil || !strings.Contains(err.Error(), "unknown role") {
		t.Errorf("unknown role: %v", err)
	}
	if _, err := NewKeys("short"); err == nil {
		t.Error("short key accepted")
	}
	if _, err := NewKeys(keyA, "short"); err == nil {
		t.Error("short previous key accepted")
	}
}

func TestRequire(t *testing.T) {
	t.Parallel()
	keys := MustKeys(keyA)
	mint := func(sub string, roles ...string) string {
		s, err := keys.Mint(sub, time.Hour, roles...)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + s
	}
	foreign, _ := MustKeys(keyB).Mint("ops", time.Hour, RoleStockWrite)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, found := CallerFrom(r.Context())
		if !found {
			t.Error("no caller in the context")
		}
		w.Header().Set("X-Subject", c.Subject)
	})
	for _, tt := range []struct {
		name, auth string
		roles      []string
		want       int
		challenge  string
	}{
		{name: "no credential", want: 401, challenge: `Bearer realm="orderbus"`},
		{name: "basic scheme", auth: "Basic dXNlcjpwYXNz", want: 401, challenge: `Bearer realm="orderbus"`},
		{name: "foreign key", auth: "Bearer " + foreign, want: 401, challenge: `error="invalid_token"`},
		{name: "wrong role", auth: mint("ops", RoleOperatorRead), roles: []string{RoleStockWrite}, want: 403, challenge: `insufficient_scope`},
		{name: "customer on operator route", auth: mint("0193f1e4-1234-7000-8000-000000000001"), roles: []string{RoleOperatorRead}, want: 403},
		{name: "right role", auth: mint("ops", RoleStockWrite), roles: []string{RoleStockWrite}, want: 200},
		{name: "any token", auth: mint("0193f1e4-1234-7000-8000-000000000001"), want: 200},
		{name: "lower-case scheme", auth: strings.Replace(mint("ops", RoleStockWrite), "Bearer", "bearer", 1), roles: []string{RoleStockWrite}, want: 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodGet, "/x", nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			Require(keys, tt.roles...)(ok).ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.want, rec.Body)
			}
			if tt.want >= 400 && rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Errorf("Content-Type %q", rec.Header().Get("Content-Type"))
			}
			if got := rec.Header().Get("WWW-Authenticate"); !strings.Contains(got, tt.challenge) {
				t.Errorf("WWW-Authenticate %q lacks %q", got, tt.challenge)
			}
		})
	}
}

func TestRequireCustomerOr(t *testing.T) {
	t.Parallel()
	keys := MustKeys(keyA)
	h := RequireCustomerOr(keys, RoleOperatorRead)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, tt := range []struct {
		name  string
		roles []string
		sub   string
		want  int
	}{
		{name: "customer", sub: "0193f1e4-1234-7000-8000-000000000001", want: 200},
		{name: "operator with the role", sub: "ops", roles: []string{RoleOperatorRead}, want: 200},
		{name: "operator without it", sub: "ops", roles: []string{RoleStockWrite}, want: 403},
		{name: "none", want: 401},
	} {
		req := httptest.NewRequest(http.MethodGet, "/x", nil)
		if tt.sub != "" {
			tok, err := keys.Mint(tt.sub, time.Hour, tt.roles...)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, rec.Code, tt.want)
		}
	}
}

func TestAuthenticateLetsGuestsThrough(t *testing.T) {
	t.Parallel()
	keys := MustKeys(keyA)
	var sawCaller bool
	h := Authenticate(keys)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, sawCaller = CallerFrom(r.Context())
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/orders", nil))
	if rec.Code != 200 || sawCaller {
		t.Fatalf("guest: status %d, caller %v", rec.Code, sawCaller)
	}
	req := httptest.NewRequest(http.MethodPost, "/v1/orders", nil)
	req.Header.Set("Authorization", "Bearer nonsense")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 401 {
		t.Fatalf("invalid token: status %d, want 401", rec.Code)
	}
}

func TestCallerCanRead(t *testing.T) {
	t.Parallel()
	const id = "0193f1e4-1234-7000-8000-00000000000a"
	customer := Caller{Subject: id}
	if !customer.CanRead(strings.ToUpper(id)) || customer.CanRead("0193f1e4-1234-7000-8000-00000000000b") || customer.CanRead("") {
		t.Error("customer reads wrong data")
	}
	if !(Caller{Subject: "ops", Roles: []string{RoleOperatorRead}}).CanRead(id) {
		t.Error("operator cannot read")
	}
	if (Caller{Subject: "ops", Roles: []string{RoleStockWrite}}).CanRead(id) {
		t.Error("stock writer reads customer data")
	}
}

func TestOrderToken(t *testing.T) {
	t.Parallel()
	const customer, order, other = "0193f1e4-1234-7000-8000-00000000000a", "0193f1e4-1234-7000-8000-0000000000aa", "0193f1e4-1234-7000-8000-0000000000bb"
	keys := MustKeys(keyA)
	tok, err := keys.MintOrder(customer, order, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err := keys.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if !c.CanReadOrder(customer, order) {
		t.Error("order token cannot read its order")
	}
	if c.CanReadOrder(customer, other) {
		t.Error("order token reads another order of the customer")
	}
	if c.CanRead(customer) {
		t.Error("order token reads all of the customer's data")
	}
	if _, err := keys.MintOrder(customer, "", time.Hour); err == nil {
		t.Error("order token without an order minted")
	}
}

func TestSettingsValidate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		s       Settings
		wantErr error
		wantMsg string
	}{
		{name: "own key", s: Settings{JWTKey: keyA}},
		{name: "dev key in development", s: Settings{JWTKey: DevelopmentKey, Environment: "development"}},
		{name: "dev key in production", s: Settings{JWTKey: DevelopmentKey, Environment: "production"}, wantErr: ErrDevelopmentKey},
		{name: "dev key without ORDERBUS_ENV", s: Settings{JWTKey: DevelopmentKey}, wantErr: ErrDevelopmentKey},
		{name: "dev key as previous key", s: Settings{JWTKey: keyA, PreviousKeys: []string{DevelopmentKey}}, wantErr: ErrDevelopmentKey},
		{name: "short key", s: Settings{JWTKey: "short"}, wantMsg: "at least 32"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.s.Validate()
			switch {
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("Validate = %v, want %v", err, tt.wantErr)
			case tt.wantMsg != "" && (err == nil || !strings.Contains(err.Error(), tt.wantMsg)):
				t.Fatalf("Validate = %v, want %q", err, tt.wantMsg)
			case tt.wantErr == nil && tt.wantMsg == "" && err != nil:
				t.Fatalf("Validate = %v", err)
			}
		})
	}
}
