package auth

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/orderbus/orderbus/pkg/web"
)

// realm is the realm of every WWW-Authenticate challenge.
const realm = "orderbus"

// Require lets a request through only with a valid bearer token holding
// every one of roles (with no roles, any valid token: a customer's or an
// operator's; the handler then checks ownership with CallerFrom and
// Caller.CanRead, answering 404 for another customer's resource). No or
// an invalid token answers 401 with a WWW-Authenticate challenge; a
// missing role answers 403. Nothing of the request is read before.
func Require(keys *Keys, roles ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, ok, err := authenticate(keys, r)
			if err != nil {
				writeUnauthorized(w, r, err)
				return
			}
			if !ok {
				writeUnauthorized(w, r, nil)
				return
			}
			for _, role := range roles {
				if !c.Has(role) {
					writeForbidden(w, r, role)
					return
				}
			}
			next.ServeHTTP(w, r.WithContext(WithCaller(r.Context(), c)))
		})
	}
}

// RequireCustomerOr lets a request through with a valid customer token
// (no roles), for the handler to check ownership (Caller.CanRead,
// CanReadOrder: another customer's resource answers 404), or with an
// operator token holding one of roles. An operator token with none of
// them answers 403, no token 401.
func RequireCustomerOr(keys *Keys, roles ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, ok, err := authenticate(keys, r)
			if err != nil {
				writeUnauthorized(w, r, err)
				return
			}
			if !ok {
				writeUnauthorized(w, r, nil)
				return
			}
			if c.IsOperator() && !slices.ContainsFunc(roles, c.Has) {
				writeForbidden(w, r, strings.Join(roles, " "))
				return
			}
			next.ServeHTTP(w, r.WithContext(WithCaller(r.Context(), c)))
		})
	}
}

// Authenticate stores the caller of a request that carries a valid bearer
// token and lets a request without one through as anonymous (CallerFrom
// reports false): for routes open to guests, such as placing an order. An
// invalid token still answers 401: a client that sends one has a bug or
// an expired token it should learn about.
func Authenticate(keys *Keys) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, ok, err := authenticate(keys, r)
			if err != nil {
				writeUnauthorized(w, r, err)
				return
			}
			if ok {
				r = r.WithContext(WithCaller(r.Context(), c))
			}
			next.ServeHTTP(w, r)
		})
	}
}

// authenticate reads the Authorization header: ok false without a bearer
// token (no header, or another scheme: RFC 6750 treats both as no
// credential), an error when the bearer token is not valid.
func authenticate(keys *Keys, r *http.Request) (Caller, bool, error) {
	scheme, token, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return Caller{}, false, nil
	}
	c, err := keys.Verify(strings.TrimSpace(token))
	if err != nil {
		return Caller{}, false, err
	}
	return c, true, nil
}

// writeUnauthorized answers 401 with a challenge: without error
// information when no credential came, with error="invalid_token" for a
// bad one (RFC 6750 section 3.1).
func writeUnauthorized(w http.ResponseWriter, r *http.Request, err error) {
	challenge := `Bearer realm="` + realm + `"`
	detail := "This resource requires Authorization: Bearer <token>."
	switch {
	case errors.Is(err, ErrExpiredToken):
		challenge += `, error="invalid_token", error_description="the token has expired"`
		detail = "The bearer token has expired."
	case err != nil:
		challenge += `, error="invalid_token"`
		detail = "The bearer token is not valid."
	}
	w.Header().Set("WWW-Authenticate", challenge)
	web.WriteProblem(w, r, web.NewProblem(web.ProblemUnauthorized, http.StatusUnauthorized, detail))
}

// writeForbidden answers 403 naming the role (or space-separated roles,
// any of which would do) that is missing; roles are public, see the
// README.
func writeForbidden(w http.ResponseWriter, r *http.Request, role string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`", error="insufficient_scope", scope="`+role+`"`)
	WriteForbidden(w, r, "This resource requires the role "+strings.ReplaceAll(role, " ", " or ")+".")
}

// WriteForbidden answers a 403 problem with detail, for a handler that
// finds a caller may not do what it asks (a customer asking to erase
// another customer).
func WriteForbidden(w http.ResponseWriter, r *http.Request, detail string) {
	web.WriteProblem(w, r, web.NewProblem(web.ProblemForbidden, http.StatusForbidden, detail))
}
