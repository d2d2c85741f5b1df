package natsjs

import "errors"

// permanentError marks an error retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return "permanent: " + e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as permanent: a Handler returning it has its message
// copied to the DLQ and terminated at once, without retries. Use it for
// failures that retrying cannot fix (a rejected recipient, an invalid
// payload). Permanent(nil) returns nil. The result still matches err with
// errors.Is and errors.As.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or any error it wraps, was made by Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}
