package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"reflect"
	"strings"
)

// Encode writes v as JSON with status. The body is marshalled before any
// header is sent, so a value that cannot be encoded (a programming error)
// turns into a 500 ProblemInternal instead of a 200 with half a body.
func Encode(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		WriteProblem(w, nil, NewProblem(ProblemInternal, http.StatusInternalServerError,
			"The server could not encode its response."))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// Validator is implemented by request types that check themselves. Valid
// returns the problems found, keyed by field (JSON name or path such as
// "items.0.quantity"); an empty map means the value is valid.
type Validator interface {
	Valid() map[string]string
}

// Decode reads a JSON request body of at most limit bytes into a T and
// returns it. It writes nothing: on failure it returns a *Problem for
// WriteError:
//   - Content-Type not application/json (or another +json type): 415
//     ProblemUnsupportedMediaType;
//   - body over limit bytes: 413 ProblemTooLarge;
//   - empty body, malformed JSON, a wrong JSON type for a field, an unknown
//     field, or anything after the first JSON value: 400 ProblemMalformed,
//     with a detail naming the offset or field;
//   - T (or *T) is a Validator reporting problems: 422 ProblemValidation
//     with Errors.
func Decode[T any](w http.ResponseWriter, r *http.Request, limit int64) (T, error) {
	var v T
	if err := checkJSONContentType(r.Header.Get("Content-Type")); err != nil {
		return v, err
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		closeIfTooLarge(w, err)
		return v, decodeProblem(err)
	}
	if rv := reflect.ValueOf(&v).Elem(); rv.Kind() == reflect.Pointer && rv.IsNil() {
		return v, NewProblem(ProblemMalformed, http.StatusBadRequest,
			"The request body must be a JSON object, not null.")
	}
	// A second value, or garbage, after the first one is an error: a client
	// that sends two objects has a bug we should not hide.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if maxErr, ok := errors.AsType[*http.MaxBytesError](err); ok {
			closeIfTooLarge(w, err)
			return v, tooLarge(maxErr.Limit)
		}
		return v, NewProblem(ProblemMalformed, http.StatusBadRequest,
			"The request body must hold a single JSON value; found data after it.")
	}
	if errs := validate(&v); len(errs) > 0 {
		p := NewProblem(ProblemValidation, http.StatusUnprocessableEntity,
			"The request has invalid fields; see errors.")
		p.Errors = errs
		return v, p
	}
	return v, nil
}

func validate[T any](v *T) map[string]string {
	if val, ok := any(*v).(Validator); ok {
		return val.Valid()
	}
	if val, ok := any(v).(Validator); ok {
		return val.Valid()
	}
	return nil
}

func checkJSONContentType(header string) error {
	unsupported := NewProblem(ProblemUnsupportedMediaType, http.StatusUnsupportedMediaType,
		"The request body must be JSON, sent with Content-Type: application/json.")
	if header == "" {
		return unsupported
	}
	mediaType, _, err := mime.ParseMediaType(header)
	if err != nil {
		return unsupported
	}
	if mediaType == "application/json" ||
		(strings.HasPrefix(mediaType, "application/") && strings.HasSuffix(mediaType, "+json")) {
		return nil
	}
	return unsupported
}

func decodeProblem(err error) *Problem {
	malformed := func(format string, args ...any) *Problem {
		return NewProblem(ProblemMalformed, http.StatusBadRequest, fmt.Sprintf(format, args...))
	}
	if maxErr, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return tooLarge(maxErr.Limit)
	}
	if netErr, ok := errors.AsType[net.Error](err); ok && netErr.Timeout() {
		return NewProblem(ProblemTimeout, http.StatusRequestTimeout,
			"The request body did not arrive within the server's read timeout.")
	}
	if syntaxErr, ok := errors.AsType[*json.SyntaxError](err); ok {
		return malformed("The request body is not valid JSON (at byte %d).", syntaxErr.Offset)
	}
	if typeErr, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		if typeErr.Field == "" {
			return malformed("The request body must be a JSON %s, not %s.", jsonKind(typeErr.Type), typeErr.Value)
		}
		return malformed("Field %q must be a JSON %s, not %s.", typeErr.Field, jsonKind(typeErr.Type), typeErr.Value)
	}
	switch {
	case errors.Is(err, io.EOF):
		return malformed("The request body is empty; it must be a JSON value.")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return malformed("The request body ends in the middle of a JSON value.")
	}
	// encoding/json reports unknown fields only as text.
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return malformed("Unknown field %s.", field)
	}
	return malformed("The request body could not be read as JSON.")
}

// closeIfTooLarge asks the server to close the connection after answering
// a body over the limit or one cut off by the read timeout: the client may still be sending the rest, which
// nobody reads, and a graceful shutdown would otherwise wait on that
// connection until its deadline.
func closeIfTooLarge(w http.ResponseWriter, err error) {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		w.Header().Set("Connection", "close")
	}
	if netErr, ok := errors.AsType[net.Error](err); ok && netErr.Timeout() {
		w.Header().Set("Connection", "close")
	}
}

func tooLarge(limit int64) *Problem {
	return NewProblem(ProblemTooLarge, http.StatusRequestEntityTooLarge,
		fmt.Sprintf("The request body must not exceed %d bytes.", limit))
}

// jsonKind names the JSON type a Go type is decoded from, for details a
// client understands ("number", not "int").
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "value"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "value"
}
