// Package auth is the HTTP authorization of orderbus: signed JWTs (HS256,
// github.com/golang-jwt/jwt/v5) carrying a subject and roles, the keys that
// sign and verify them (with rotation), and the middleware that lets a
// request through only with the right credential.
//
// Two kinds of caller hold tokens:
//
//   - a customer: the token's subject is the customer's id (a UUID) and it
//     carries no role. A customer token reads only that customer's own
//     data; another customer's resource answers 404, as if it did not
//     exist. A shop's login issues such tokens (in development,
//     orderbus-token). The order service hands out a narrower one with
//     every placed order (guest checkout): an order token, which reads
//     that one order only (Keys.MintOrder), since anyone can place an
//     order in any customer's name.
//   - an operator (a person or a tool): the subject names it ("ops-alice",
//     "orderbus-dlq") and the roles say what it may do.
//
// The roles, one per kind of power, so that a token carries no more than
// its holder needs:
//
//	operator:read   read any order, the mail and SMS listings, erasures, dead letters
//	stock:write     PUT /v1/stock/{sku}
//	erasure:write   request erasures of any customer and read their state
//	dlq:write       redrive and purge dead letters
//
// No credential answers 401 with a WWW-Authenticate: Bearer challenge (RFC
// 6750); a valid token without the role answers 403. Tokens are verified
// with HMAC in constant time (hmac.Equal inside jwt/v5).
//
// DevelopmentKey is published in the repository for `make run` and docker
// compose; Settings.Validate refuses it unless ORDERBUS_ENV=development.
package auth
