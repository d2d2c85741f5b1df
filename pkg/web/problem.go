package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// Stable problem type URIs. Clients may switch on them; they never change
// meaning. The URIs identify the problem kind and need not resolve.
const (
	// ProblemMalformed (400): the request body or a parameter cannot be read.
	ProblemMalformed = "https://orderbus.dev/problems/malformed"
	// ProblemValidation (422): the request is well formed but some fields are
	// invalid; Problem.Errors says which.
	ProblemValidation = "https://orderbus.dev/problems/validation"
	// ProblemTooLarge (413): the request body exceeds the endpoint's limit.
	ProblemTooLarge = "https://orderbus.dev/problems/too-large"
	// ProblemUnsupportedMediaType (415): the request body is not JSON.
	ProblemUnsupportedMediaType = "https://orderbus.dev/problems/unsupported-media-type"
	// ProblemNotFound (404): the resource or route does not exist.
	ProblemNotFound = "https://orderbus.dev/problems/not-found"
	// ProblemConflict (409, or 422 when an idempotency key is reused with a
	// different request): the request conflicts with the resource's state.
	ProblemConflict = "https://orderbus.dev/problems/conflict"
	// ProblemUnauthorized (401): credentials are missing or wrong.
	ProblemUnauthorized = "https://orderbus.dev/problems/unauthorized"
	// ProblemForbidden (403): the credential is valid but lacks the role
	// the request needs.
	ProblemForbidden = "https://orderbus.dev/problems/forbidden"
	// ProblemTimeout (408): the client did not send its request in time.
	ProblemTimeout = "https://orderbus.dev/problems/timeout"
	// ProblemRateLimited (429): the client sent too many requests; the
	// Retry-After header says when to try again.
	ProblemRateLimited = "https://orderbus.dev/problems/rate-limited"
	// ProblemUnavailable (503): the operation is not available on this
	// server (not configured, or a dependency is down); the detail says why.
	ProblemUnavailable = "https://orderbus.dev/problems/unavailable"
	// ProblemInternal (500): the server failed; details are only in its log.
	ProblemInternal = "https://orderbus.dev/problems/internal"
)

// problemTitle is the one table of human titles per problem type: RFC 9457
// asks that a type's title not change from occurrence to occurrence.
func problemTitle(typ string) string {
	switch typ {
	case ProblemMalformed:
		return "Malformed request"
	case ProblemValidation:
		return "Invalid request"
	case ProblemTooLarge:
		return "Request body too large"
	case ProblemUnsupportedMediaType:
		return "Unsupported media type"
	case ProblemNotFound:
		return "Not found"
	case ProblemConflict:
		return "Conflict"
	case ProblemUnauthorized:
		return "Unauthorized"
	case ProblemForbidden:
		return "Forbidden"
	case ProblemTimeout:
		return "Request timeout"
	case ProblemRateLimited:
		return "Too many requests"
	case ProblemUnavailable:
		return "Service unavailable"
	case ProblemInternal:
		return "Internal server error"
	}
	return ""
}

// Problem is an RFC 9457 problem detail. It is also an error, so handlers
// and helpers such as Decode return it and WriteError writes it unchanged.
type Problem struct {
	// Type is a stable URI naming the kind of problem (one of the Problem*
	// constants); empty means "about:blank".
	Type string `json:"type"`
	// Title is the short human summary of Type.
	Title string `json:"title"`
	// Status is the HTTP status code; 0 means 500.
	Status int `json:"status"`
	// Detail explains this occurrence to the client; it never holds internals.
	Detail string `json:"detail,omitempty"`
	// Instance identifies this occurrence; WriteProblem fills in the request
	// path when empty.
	Instance string `json:"instance,omitempty"`
	// Errors maps a field (JSON path such as "items.0.sku") to what is wrong
	// with it, for ProblemValidation.
	Errors map[string]string `json:"errors,omitempty"`
}

// NewProblem returns a problem of type typ with status and detail, titled
// from the type's fixed title (or the status text for an unknown type).
func NewProblem(typ string, status int, detail string) *Problem {
	title := problemTitle(typ)
	if title == "" {
		title = http.StatusText(status)
	}
	return &Problem{Type: typ, Title: title, Status: status, Detail: detail}
}

// Error returns the status, title and detail, so a logged problem reads well.
func (p *Problem) Error() string {
	if p.Detail == "" {
		return fmt.Sprintf("%d %s", p.Status, p.Title)
	}
	return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail)
}

// WriteProblem writes p as application/problem+json with p.Status (500 when
// unset), filling in an empty Type ("about:blank"), Title (the status text)
// and Instance (the request path, never the query) in the copy it writes.
func WriteProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	out := *p
	if out.Status == 0 {
		out.Status = http.StatusInternalServerError
	}
	if out.Type == "" {
		out.Type = "about:blank"
	}
	if out.Title == "" {
		out.Title = http.StatusText(out.Status)
	}
	if out.Instance == "" && r != nil && r.URL != nil {
		out.Instance = r.URL.Path
	}
	body, err := json.Marshal(out)
	if err != nil {
		// Only string fields: marshalling cannot fail, but never send half a body.
		body = []byte(`{"type":"` + ProblemInternal + `","title":"Internal server error","status":500}`)
		out.Status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(out.Status)
	_, _ = w.Write(append(body, '\n'))
}

// WriteError answers err: a *Problem anywhere in its chain is written as
// is; any other error (nil included) is logged at error level with the
// request's method, route and id, and answered as a 500 ProblemInternal
// without its text.
func WriteError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	if err == nil {
		err = errors.New("web.WriteError called with a nil error")
	}
	if p, ok := errors.AsType[*Problem](err); ok {
		WriteProblem(w, r, p)
		return
	}
	logger.LogAttrs(r.Context(), slog.LevelError, "request failed",
		slog.String("method", r.Method),
		slog.String("route", routePattern(r)),
		slog.String("request_id", RequestID(r.Context())),
		slog.String("error", err.Error()))
	WriteProblem(w, r, NewProblem(ProblemInternal, http.StatusInternalServerError,
		"The server could not complete the request; it has been logged."))
}
