package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/web"
)

// List limits of GET /v1/messages.
const (
	defaultListLimit = 50
	maxListLimit     = 200
)

// handleListMessages answers GET /v1/messages?to=<E.164> with the records
// of the SMS sent (or refused) to that number, newest first, at most
// ?limit= (default 50; values above 200 are lowered to 200), for
// operators. A missing or invalid to or limit is a 400 problem.
func handleListMessages(logger *slog.Logger, store *Store) http.Handler {
	type response struct {
		Messages []Message `json:"messages"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		to, limit, err := listParams(r)
		if err != nil {
			web.WriteError(w, r, logger, err)
			return
		}
		msgs, err := store.MessagesTo(r.Context(), to, limit)
		if err != nil {
			web.WriteError(w, r, logger, err)
			return
		}
		if msgs == nil {
			msgs = []Message{}
		}
		web.Encode(w, http.StatusOK, response{Messages: msgs})
	})
}

// listParams reads to and limit, or returns a 400 problem. An unescaped
// '+' in a query string decodes as a space, so a to of a space and digits
// (?to=+447700900961 typed as is) is read as the E.164 number it meant.
func listParams(r *http.Request) (string, int, error) {
	q := r.URL.Query()
	bad := func(field, problem string) (string, int, error) {
		p := web.NewProblem(web.ProblemMalformed, http.StatusBadRequest, "Invalid query parameters; see errors.")
		p.Errors = map[string]string{field: problem}
		return "", 0, p
	}
	to := q.Get("to")
	if to == "" {
		return bad("to", "is required")
	}
	if rest, ok := strings.CutPrefix(to, " "); ok {
		to = "+" + rest
	}
	if !events.ValidPhone(to) {
		return bad("to", "must be an E.164 phone number such as +447700900961 (escape + as %2B)")
	}
	limit := defaultListLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return bad("limit", fmt.Sprintf("must be a whole number from 1 to %d", maxListLimit))
		}
		limit = min(n, maxListLimit)
	}
	return to, limit, nil
}
