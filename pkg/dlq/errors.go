package dlq

import "errors"

// Sentinel errors, usable with errors.Is.
var (
	// ErrNoStream means the DLQ stream does not exist (no service has
	// started against this server yet, or it was deleted).
	ErrNoStream = errors.New("dlq stream not found")
	// ErrNotFound means no message is stored at the given DLQ sequence
	// (never stored, already redriven or purged, or expired).
	ErrNotFound = errors.New("dead letter not found")
	// ErrNotDeadLetter means the message at a DLQ sequence lacks what a
	// redrive needs: a dlq.<durable>.<subject> subject and the
	// Orderbus-Consumer and Orderbus-Stream headers.
	ErrNotDeadLetter = errors.New("not a dead letter")
	// ErrNoConsumer means the durable a dead letter belongs to does not
	// exist on its stream, so a redrive would be handled by no one; the
	// message is not republished.
	ErrNoConsumer = errors.New("durable consumer not found")
	// ErrNotAcked means the durable did not acknowledge a redriven message
	// within the wait; its DLQ copy is left in place, and redriving it
	// again is harmless.
	ErrNotAcked = errors.New("redrive not acknowledged in time")
	// ErrTruncated means a dead letter was stored without its body and the
	// original message is no longer in its stream (expired or purged), so
	// there is nothing to redrive.
	ErrTruncated = errors.New("dead letter has no body and its original is gone")
	// ErrBadFilter is wrapped by every error of ParseFilter.
	ErrBadFilter = errors.New("invalid dlq filter")
)
