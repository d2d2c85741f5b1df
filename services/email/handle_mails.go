package main

import (
	"log/slog"
	"net/http"

	"github.com/google/uuid"

	"github.com/orderbus/orderbus/pkg/web"
)

// handleListMails answers GET /v1/mails?order_id=<uuid> with the records
// of the mails sent (or refused) for that order, oldest first, for
// operators. Bodies are not stored, so never shown. A missing or invalid
// order_id is a 400 problem.
func handleListMails(logger *slog.Logger, store *Store) http.Handler {
	type response struct {
		Mails []Mail `json:"mails"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		orderID := r.URL.Query().Get("order_id")
		id, err := uuid.Parse(orderID)
		if err != nil {
			web.WriteProblem(w, r, web.NewProblem(web.ProblemMalformed, http.StatusBadRequest,
				"Query parameter order_id must be an order id (a UUID)."))
			return
		}
		mails, err := store.MailsByOrder(r.Context(), id.String())
		if err != nil {
			web.WriteError(w, r, logger, err)
			return
		}
		if mails == nil {
			mails = []Mail{}
		}
		web.Encode(w, http.StatusOK, response{Mails: mails})
	})
}
