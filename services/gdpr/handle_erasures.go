package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/pkg/auth"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/web"
)

// maxBodyBytes limits request bodies: an erasure request is one id.
const maxBodyBytes = 4 << 10

// erasurePath is the URL path of an erasure, used in Location and links.
func erasurePath(id uuid.UUID) string { return "/v1/erasures/" + id.String() }

// links are the hypermedia links of an erasure in responses.
type links struct {
	Self string `json:"self"`
}

// erasureRequest is the body of POST /v1/erasures.
type erasureRequest struct {
	CustomerID string `json:"customer_id"`
}

// handleCreateErasure asks every participant to erase a customer: it
// stores the erasure and its event in one transaction (requestErasure),
// publishes the event at once (Relay.PublishNow) and answers 202 either
// way. While the customer has an open erasure it answers that one with
// 200. An invalid body is a 400 problem. The caller (checked by the
// router's auth.RequireCustomerOr) holds erasure:write, or is the customer
// with a full customer token (an order token does not do: anyone can get
// one); anyone else gets 403. See README "HTTP".
func handleCreateErasure(logger *slog.Logger, store *Store, relay *outbox.Relay, m *metrics,
	participants []string) http.Handler {
	type response struct {
		ID           string    `json:"id"`
		CustomerID   string    `json:"customer_id"`
		Status       string    `json:"status"`
		Participants []string  `json:"participants"`
		RequestedAt  time.Time `json:"requested_at"`
		Links        links     `json:"links"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := web.Decode[erasureRequest](w, r, maxBodyBytes)
		if err != nil {
			web.WriteError(w, r, logger, err)
			return
		}
		customerID, err := parseCustomerID(req.CustomerID)
		if err != nil {
			web.WriteError(w, r, logger, err)
			return
		}
		if c, _ := auth.CallerFrom(r.Context()); !c.Has(auth.RoleErasureWrite) && !c.CanRead(customerID.String()) {
			auth.WriteForbidden(w, r, "A customer token may request the erasure of its own customer only.")
			return
		}
		n, err := newErasureFor(customerID, participants)
		if err != nil {
			web.WriteError(w, r, logger, err)
			return
		}
		e, created, err := requestErasure(r.Context(), store, n)
		if err != nil {
			web.WriteError(w, r, logger, err)
			return
		}
		status := http.StatusOK
		if created {
			status = http.StatusAccepted
			m.erasures.WithLabelValues(erasureRequested).Inc()
			published := relay.PublishNow(r.Context(), logger, n.Event.ID)
			logger.Info("erasure requested", "erasure_id", e.ID, "event_id", n.Event.ID,
				"participants", len(participants), "published", published, "request_id", web.RequestID(r.Context()))
		} else {
			m.erasures.WithLabelValues(erasureRepeated).Inc()
			logger.Info("erasure already open; returned it", "erasure_id", e.ID,
				"request_id", web.RequestID(r.Context()))
		}
		resp := response{
			ID: e.ID.String(), CustomerID: e.CustomerID.String(), Status: e.Status,
			Participants: make([]string, len(e.Participants)),
			RequestedAt:  e.RequestedAt.UTC(), Links: links{Self: erasurePath(e.ID)},
		}
		for i, p := range e.Participants {
			resp.Participants[i] = p.Service
		}
		w.Header().Set("Location", erasurePath(e.ID))
		web.Encode(w, status, resp)
	})
}

// requestErasure stores n.Erasure and n.Event (in the outbox) in one
// transaction and returns it with created true. While the customer has an
// open erasure it stores nothing and returns that one with created false;
// a concurrent request for the same customer waits for the first and then
// returns its erasure. It returns an error when a statement or the commit
// fails.
func requestErasure(ctx context.Context, store *Store, n newErasure) (erasure, bool, error) {
	// Three attempts: the open erasure a conflict points at may complete
	// before it is read, and then a new one can be inserted.
	for range 3 {
		var (
			inserted bool
			open     uuid.UUID
		)
		err := pgx.BeginFunc(ctx, store.pool, func(tx pgx.Tx) error {
			var err error
			if inserted, open, err = insertErasure(ctx, tx, n.Erasure, n.Event.ID); err != nil || !inserted {
				return err
			}
			return outbox.Enqueue(ctx, tx, events.SubjectErasureRequested, n.Event)
		})
		switch {
		case err != nil:
			return erasure{}, false, fmt.Errorf("request erasure: %w", err)
		case inserted:
			return n.Erasure, true, nil
		case open != uuid.Nil:
			// Erasures are never deleted: it is there to read.
			e, err := store.Erasure(ctx, open)
			return e, false, err
		}
	}
	return erasure{}, false, errors.New("request erasure: the customer's open erasure kept completing; try again")
}

// parseCustomerID returns the customer id in canonical (lower-case) form,
// the form the order service puts in subjects, or a 400 problem naming
// the field. Only the 36-character hyphenated form is accepted.
func parseCustomerID(raw string) (uuid.UUID, error) {
	bad := func(problem string) (uuid.UUID, error) {
		p := web.NewProblem(web.ProblemMalformed, http.StatusBadRequest, "Invalid customer_id; see errors.")
		p.Errors = map[string]string{"customer_id": problem}
		return uuid.Nil, p
	}
	if raw == "" {
		return bad("is required")
	}
	id, err := uuid.Parse(raw)
	if err != nil || len(raw) != 36 {
		return bad("must be a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
	}
	return id, nil
}

// newErasureFor builds a pending erasure of customerID, to be answered by
// participants, and its erasure requested event.
func newErasureFor(customerID uuid.UUID, participants []string) (newErasure, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return newErasure{}, fmt.Errorf("new erasure id: %w", err)
	}
	e := erasure{
		ID: id, CustomerID: customerID, Status: statusPending,
		// PostgreSQL keeps microseconds: the answer and the event show what is stored.
		RequestedAt:  time.Now().UTC().Truncate(time.Microsecond),
		Participants: make([]participant, len(participants)),
	}
	for i, p := range participants {
		e.Participants[i] = participant{Service: p, State: statusPending}
	}
	ev, err := events.New(eventSource, events.TypeErasureRequested, id.String(), events.ErasureRequested{
		ErasureID: id.String(), CustomerID: customerID.String(), RequestedAt: e.RequestedAt,
	})
	if err != nil {
		return newErasure{}, fmt.Errorf("build erasure requested event: %w", err)
	}
	return newErasure{Erasure: e, Event: ev}, nil
}

// handleGetErasure answers an erasure with each participant's state,
// counts and verification, the purge, and the participants it waits for;
// or a 404 problem when the id is unknown or not a UUID, or the caller is
// another customer.
func handleGetErasure(logger *slog.Logger, store *Store) http.Handler {
	type participantJSON struct {
		Service    string           `json:"service"`
		State      string           `json:"state"`
		AnsweredAt *time.Time       `json:"answered_at"`
		Erased     map[string]int64 `json:"erased"`
		VerifiedAt *time.Time       `json:"verified_at"`
		// Verification: remaining (all zero), suppressed events, and each
		// consumer's ack floor; null until verified.
		Verification *verification `json:"verification"`
	}
	type response struct {
		ID          string     `json:"id"`
		CustomerID  string     `json:"customer_id"`
		Status      string     `json:"status"`
		RequestedAt time.Time  `json:"requested_at"`
		CompletedAt *time.Time `json:"completed_at"`
		// PurgedAt and Purge: when the streams were purged, the bounds
		// and how many messages each lost; null until every participant answered.
		PurgedAt *time.Time   `json:"purged_at"`
		Purge    *purgeResult `json:"purge"`
		// Waiting names the participants the erasure waits for: those
		// that have not answered, or once purged, not verified.
		Waiting      []string          `json:"waiting"`
		Participants []participantJSON `json:"participants"`
		Links        links             `json:"links"`
	}
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		notFound := web.NewProblem(web.ProblemNotFound, http.StatusNotFound, "There is no erasure with this id.")
		id, err := uuid.Parse(chi.URLParam(r, "id"))
		if err != nil {
			web.WriteProblem(w, r, notFound)
			return
		}
		e, err := store.Erasure(r.Context(), id)
		if errors.Is(err, errErasureNotFound) {
			web.WriteProblem(w, r, notFound)
			return
		}
		if err != nil {
			web.WriteError(w, r, logger, err)
			return
		}
		if c, _ := auth.CallerFrom(r.Context()); !c.Has(auth.RoleErasureWrite) && !c.CanRead(e.CustomerID.String()) {
			web.WriteProblem(w, r, notFound) // another customer's erasure
			return
		}
		resp := response{
			ID: e.ID.String(), CustomerID: e.CustomerID.String(), Status: e.Status,
			RequestedAt: e.RequestedAt.UTC(), CompletedAt: utc(e.CompletedAt),
			PurgedAt: utc(e.PurgedAt), Purge: e.Purge, Waiting: []string{},
			Participants: make([]participantJSON, len(e.Participants)),
			Links:        links{Self: erasurePath(e.ID)},
		}
		for i, p := range e.Participants {
			resp.Participants[i] = participantJSON{Service: p.Service, State: p.State,
				AnsweredAt: utc(p.AnsweredAt), Erased: p.Erased,
				VerifiedAt: utc(p.VerifiedAt), Verification: p.Verification}
			if e.Status == statusPending && (p.State == statusPending || (e.PurgedAt != nil && p.State != stateVerified)) {
				resp.Waiting = append(resp.Waiting, p.Service)
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		web.Encode(w, http.StatusOK, resp)
	})
}
