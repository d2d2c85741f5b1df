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

// unavailableError marks a transient failure caused by a dependency that
// does not answer (a database, an SMTP server, an SMS provider).
type unavailableError struct {
	dependency string
	err        error
}

func (e *unavailableError) Error() string { return e.dependency + " unavailable: " + e.err.Error() }
func (e *unavailableError) Unwrap() error { return e.err }

// Unavailable marks err as a transient failure caused by dependency (a
// short name such as "postgres", "smtp" or "sms-provider") being
// unreachable or refusing service for now. The runner retries the message
// like any transient error and, after ConsumerConfig.PauseAfter such
// failures in a row, stops fetching until the dependency's Probe passes
// (see ConsumerConfig.Probes). Unavailable(dep, nil) returns nil. The
// result still matches err with errors.Is and errors.As.
func Unavailable(dependency string, err error) error {
	if err == nil {
		return nil
	}
	return &unavailableError{dependency: dependency, err: err}
}

// DependencyOf returns the dependency named by the outermost Unavailable
// in err's chain, and false when there is none.
func DependencyOf(err error) (string, bool) {
	var u *unavailableError
	if errors.As(err, &u) {
		return u.dependency, true
	}
	return "", false
}
