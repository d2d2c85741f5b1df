package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/orderbus/orderbus/pkg/auth"
	"github.com/orderbus/orderbus/pkg/web"
)

// List limits of GET /v1/orders.
const (
	defaultListLimit = 50
	maxListLimit     = 200
)

// orderJSON is an order in responses.
type orderJSON struct {
	ID        string        `json:"id"`
	Status    string        `json:"status"`
	Customer  *customerJSON `json:"customer,omitempty"`
	Items     []itemJSON    `json:"items"`
	History   []historyJSON `json:"history,omitempty"`
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
	Links     links         `json:"links"`
}

type customerJSON struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone"`
}

type historyJSON struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	Note   string    `json:"note,omitempty"`
}

// handleGetOrder answers an order with its customer, items and status
// history, or 404 when the id is unknown or not a UUID, or when the
// caller (auth.Require ran before) may not read it: another customer's
// order looks exactly like one that does not exist.
func handleGetOrder(logger *slog.Logger, store *Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		notFound := web.NewProblem(web.ProblemNotFound, http.StatusNotFound, "There is no order with this id.")
		id, err := uuid.Parse(chi.URLParam(r, "id"))
		if err != nil {
			web.WriteProblem(w, r, notFound)
			return
		}
		o, err := store.Order(r.Context(), id)
		if errors.Is(err, errOrderNotFound) {
			web.WriteProblem(w, r, notFound)
			return
		}
		if err != nil {
			web.WriteError(w, r, logger, err)
			return
		}
		if c, _ := auth.CallerFrom(r.Context()); !c.CanReadOrder(o.Customer.ID, o.ID.String()) {
			web.WriteProblem(w, r, notFound)
			return
		}
		resp := orderJSON{
			ID: o.ID.String(), Status: o.Status,
			Customer:  (*customerJSON)(&o.Customer),
			Items:     itemsJSON(o.Items),
			History:   make([]historyJSON, len(o.History)),
			CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC(),
			Links: links{Self: orderPath(o.ID)},
		}
		for i, h := range o.History {
			resp.History[i] = historyJSON{Status: h.Status, At: h.At.UTC(), Note: h.Note}
		}
		web.Encode(w, http.StatusOK, resp)
	})
}

// handleListOrders answers the orders of ?customer_id= (required), newest
// first, at most ?limit= (default 50; values above 200 are lowered to 200).
// The summaries leave out the customer's personal data and the history.
// Only that customer (with a customer token, not an order token) or an
// operator:read caller may list; anyone else gets 403, decided from the
// token and the query alone, so it tells nothing about the data.
func handleListOrders(logger *slog.Logger, store *Store) http.Handler {
	type response struct {
		Orders []orderJSON `json:"orders"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		customerID, limit, err := listParams(r)
		if err != nil {
			web.WriteError(w, r, logger, err)
			return
		}
		if c, _ := auth.CallerFrom(r.Context()); !c.CanRead(customerID.String()) {
			auth.WriteForbidden(w, r, "This token may list the orders of its own customer only.")
			return
		}
		orders, err := store.OrdersByCustomer(r.Context(), customerID, limit)
		if err != nil {
			web.WriteError(w, r, logger, err)
			return
		}
		resp := response{Orders: make([]orderJSON, len(orders))}
		for i, o := range orders {
			resp.Orders[i] = orderJSON{
				ID: o.ID.String(), Status: o.Status, Items: itemsJSON(o.Items),
				CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC(),
				Links: links{Self: orderPath(o.ID)},
			}
		}
		web.Encode(w, http.StatusOK, resp)
	})
}

// listParams reads customer_id and limit, or returns a 400 problem.
func listParams(r *http.Request) (uuid.UUID, int, error) {
	q := r.URL.Query()
	bad := func(field, problem string) (uuid.UUID, int, error) {
		p := web.NewProblem(web.ProblemMalformed, http.StatusBadRequest, "Invalid query parameters; see errors.")
		p.Errors = map[string]string{field: problem}
		return uuid.Nil, 0, p
	}
	raw := q.Get("customer_id")
	if raw == "" {
		return bad("customer_id", "is required")
	}
	customerID, err := uuid.Parse(raw)
	if err != nil {
		return bad("customer_id", "must be a UUID")
	}
	limit := defaultListLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return bad("limit", fmt.Sprintf("must be a whole number from 1 to %d", maxListLimit))
		}
		limit = min(n, maxListLimit)
	}
	return customerID, limit, nil
}
