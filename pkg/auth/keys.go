package auth

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer is the iss claim of every orderbus token; tokens of another
// issuer are refused.
const Issuer = "orderbus"

// MinKeyLength is the shortest signing key accepted, in bytes: HS256 wants
// a key at least as long as its 256-bit output.
const MinKeyLength = 32

// DefaultCustomerTokenTTL is how long a customer token handed out with an
// order stays valid.
const DefaultCustomerTokenTTL = 30 * 24 * time.Hour

// Errors returned by Verify, usable with errors.Is.
var (
	// ErrInvalidToken: the token is malformed, signed with an unknown key
	// or algorithm, of another issuer, or has no subject.
	ErrInvalidToken = errors.New("invalid token")
	// ErrExpiredToken: the token was valid but has expired.
	ErrExpiredToken = errors.New("token expired")
)

// Claims are the claims of an orderbus token: the registered ones (sub,
// iss, iat, exp) and the roles.
type Claims struct {
	jwt.RegisteredClaims
	// Roles are the operator roles the token grants; none for a customer.
	Roles []string `json:"roles,omitempty"`
	// OrderID, in an order token, is the one order the token reads.
	OrderID string `json:"order_id,omitempty"`
}

// Keys sign tokens with the current key and verify them with the current
// key or any previous one, so that a key can be rotated without refusing
// the tokens already handed out (see the README's security section).
type Keys struct {
	current  []byte
	previous [][]byte
}

// NewKeys returns the keys for current (the signing key) and previous
// (keys still accepted for verification). It returns an error when a key
// is shorter than MinKeyLength bytes.
func NewKeys(current string, previous ...string) (*Keys, error) {
	if len(current) < MinKeyLength {
		return nil, fmt.Errorf("signing key: %d bytes, want at least %d", len(current), MinKeyLength)
	}
	k := &Keys{current: []byte(current)}
	for i, p := range previous {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if len(p) < MinKeyLength {
			return nil, fmt.Errorf("previous key %d: %d bytes, want at least %d", i+1, len(p), MinKeyLength)
		}
		k.previous = append(k.previous, []byte(p))
	}
	return k, nil
}

// MustKeys is NewKeys for tests and tools with known-good keys; it panics
// on error.
func MustKeys(current string, previous ...string) *Keys {
	k, err := NewKeys(current, previous...)
	if err != nil {
		panic(err)
	}
	return k
}

// Mint returns a token for subject with roles, valid for ttl from now. It
// returns an error when subject is empty, ttl is not positive, or a role
// is unknown.
func (k *Keys) Mint(subject string, ttl time.Duration, roles ...string) (string, error) {
	return k.mint(subject, "", ttl, roles)
}

// MintOrder returns an order token: the customer customerID may read the
// order orderID with it, and nothing else (not its other orders, not an
// erasure). The order service hands one out with each placed order: the
// order was placed without a login (guest checkout), so the token must
// not open the customer's other data to whoever placed an order in its
// name. A full customer token (Mint with the customer id as subject) is
// for a shop's login to issue.
func (k *Keys) MintOrder(customerID, orderID string, ttl time.Duration) (string, error) {
	if orderID == "" {
		return "", errors.New("mint order token: empty order id")
	}
	return k.mint(customerID, orderID, ttl, nil)
}

func (k *Keys) mint(subject, orderID string, ttl time.Duration, roles []string) (string, error) {
	if subject == "" {
		return "", errors.New("mint token: empty subject")
	}
	if ttl <= 0 {
		return "", fmt.Errorf("mint token: ttl %s, want > 0", ttl)
	}
	for _, r := range roles {
		if !KnownRole(r) {
			return "", fmt.Errorf("mint token: unknown role %q (known: %s)", r, strings.Join(Roles(), ", "))
		}
	}
	now := time.Now()
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Subject:   subject,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		Roles:   roles,
		OrderID: orderID,
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(k.current)
	if err != nil {
		return "", fmt.Errorf("mint token: %w", err)
	}
	return s, nil
}

// Verify checks token's signature (HS256 only, against each key in turn),
// issuer and expiry, and returns its caller. It returns ErrExpiredToken
// for an expired token and ErrInvalidToken (wrapping the reason) for any
// other failure.
func (k *Keys) Verify(token string) (Caller, error) {
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(30*time.Second),
	)
	var lastErr error
	for _, key := range append([][]byte{k.current}, k.previous...) {
		var claims Claims
		_, err := parser.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return key, nil })
		switch {
		case err == nil:
			if claims.Subject == "" {
				return Caller{}, fmt.Errorf("%w: no subject", ErrInvalidToken)
			}
			return Caller{Subject: claims.Subject, Roles: claims.Roles, OrderID: claims.OrderID}, nil
		case errors.Is(err, jwt.ErrTokenSignatureInvalid):
			lastErr = err // maybe signed with another of the keys
			continue
		case errors.Is(err, jwt.ErrTokenExpired):
			return Caller{}, ErrExpiredToken
		default:
			return Caller{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
		}
	}
	return Caller{}, fmt.Errorf("%w: %w", ErrInvalidToken, lastErr)
}
