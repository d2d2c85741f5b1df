package main

import (
	"bytes"
	"crypto/sha256"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/orderbus/orderbus/pkg/auth"
	"github.com/orderbus/orderbus/pkg/web"
)

// Idempotency headers, as in the IETF draft "The Idempotency-Key HTTP
// Header Field" (Idempotent-Replayed as used by Stripe-like APIs).
const (
	headerIdempotencyKey     = "Idempotency-Key"
	headerIdempotentReplayed = "Idempotent-Replayed"
	maxIdempotencyKeyLength  = 255
)

// idempotencyRecord is the first answer given to an Idempotency-Key. Records
// are kept without expiry (the table grows no faster than orders) until
// their order's customer is erased: the request hash is a hash of the
// customer's details, so an erasure deletes the record with the order (see
// eraseCustomer), and a retry with the key after that is a new order.
type idempotencyRecord struct {
	// CustomerID scopes Key: a key is unique per customer only, so that one
	// client's key can neither collide with nor replay another's order.
	CustomerID  string
	Key         string
	RequestHash []byte // SHA-256 of the request body
	StatusCode  int
	Body        []byte
	OrderID     uuid.UUID
}

// idempotencyKey returns the request's Idempotency-Key ("" when absent), or
// a 400 problem when it is not 1 to 255 printable ASCII characters.
func idempotencyKey(r *http.Request) (string, error) {
	values := r.Header.Values(headerIdempotencyKey)
	if len(values) == 0 {
		return "", nil
	}
	key := values[0]
	valid := len(values) == 1 && len(key) >= 1 && len(key) <= maxIdempotencyKeyLength
	for i := 0; valid && i < len(key); i++ {
		valid = key[i] >= 0x20 && key[i] <= 0x7e
	}
	if !valid {
		return "", web.NewProblem(web.ProblemMalformed, http.StatusBadRequest,
			"The Idempotency-Key header must be one value of 1 to 255 printable ASCII characters.")
	}
	return key, nil
}

// replay answers a retried request with the recorded first answer and a
// fresh order token, or with a 422 problem when the retry's body differs
// from the first request's.
func replay(w http.ResponseWriter, r *http.Request, logger *slog.Logger, rec *idempotencyRecord, requestHash []byte, keys *auth.Keys, customerID string, ttl time.Duration) {
	if !bytes.Equal(rec.RequestHash, requestHash) {
		web.WriteProblem(w, r, web.NewProblem(web.ProblemConflict, http.StatusUnprocessableEntity,
			"The Idempotency-Key was already used with a different request body."))
		return
	}
	body, err := withOrderToken(rec.Body, keys, customerID, rec.OrderID, ttl)
	if err != nil {
		web.WriteError(w, r, logger, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Location", orderPath(rec.OrderID))
	h.Set(headerIdempotentReplayed, "true")
	w.WriteHeader(rec.StatusCode)
	_, _ = w.Write(body)
}

// bodyHasher wraps a request body and hashes every byte read through it.
type bodyHasher struct {
	body io.ReadCloser
	sum  hash.Hash
}

// hashBody replaces r.Body with a bodyHasher reading the original body.
func hashBody(r *http.Request) *bodyHasher {
	h := &bodyHasher{body: r.Body, sum: sha256.New()}
	r.Body = h
	return h
}

func (h *bodyHasher) Read(p []byte) (int, error) {
	n, err := h.body.Read(p)
	_, _ = h.sum.Write(p[:n])
	return n, err
}

func (h *bodyHasher) Close() error { return h.body.Close() }

// Sum returns the SHA-256 of the bytes read so far; after a successful
// web.Decode, that is the whole body (Decode reads to the end to reject
// trailing data).
func (h *bodyHasher) Sum() []byte { return h.sum.Sum(nil) }
