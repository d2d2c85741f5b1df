package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/orderbus/orderbus/pkg/web"
)

// requireBearer lets a request through only when it carries
// Authorization: Bearer <token> (the scheme in any case, RFC 9110). A
// missing or wrong token is answered with a 401 problem and a
// WWW-Authenticate: Bearer challenge (RFC 6750), before the handler reads
// anything. The tokens are compared as SHA-256 digests in constant time,
// so neither the token's content nor its length leaks through timing.
func requireBearer(token string) func(http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			scheme, got, found := strings.Cut(r.Header.Get("Authorization"), " ")
			if !found || !strings.EqualFold(scheme, "Bearer") {
				unauthorized(w, r, `Bearer realm="gdpr"`, "This endpoint requires Authorization: Bearer <token>.")
				return
			}
			digest := sha256.Sum256([]byte(strings.TrimSpace(got)))
			if subtle.ConstantTimeCompare(digest[:], want[:]) != 1 {
				unauthorized(w, r, `Bearer realm="gdpr", error="invalid_token"`, "The bearer token is not valid.")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// unauthorized answers 401 with the challenge and a problem.
func unauthorized(w http.ResponseWriter, r *http.Request, challenge, detail string) {
	w.Header().Set("WWW-Authenticate", challenge)
	web.WriteProblem(w, r, web.NewProblem(web.ProblemUnauthorized, http.StatusUnauthorized, detail))
}
