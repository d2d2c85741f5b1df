package main

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/web"
)

// maxBodyBytes limits request bodies.
const maxBodyBytes = 64 << 10

// handleListStock answers every SKU of the catalog with its stock level,
// sorted by SKU.
func handleListStock(logger *slog.Logger, store *Store) http.Handler {
	type response struct {
		Stock []StockItem `json:"stock"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		items, err := store.StockItems(r.Context())
		if err != nil {
			web.WriteError(w, r, logger, err)
			return
		}
		if items == nil {
			items = []StockItem{}
		}
		web.Encode(w, http.StatusOK, response{Stock: items})
	})
}

// handleGetStock answers the stock level of one SKU, or 404 when the SKU
// is not in the catalog (or could not be: not a valid SKU).
func handleGetStock(logger *slog.Logger, store *Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		notFound := web.NewProblem(web.ProblemNotFound, http.StatusNotFound, "There is no SKU with this name in the catalog.")
		sku := chi.URLParam(r, "sku")
		if !events.ValidSKU(sku) {
			web.WriteProblem(w, r, notFound)
			return
		}
		it, err := store.StockItem(r.Context(), sku)
		if errors.Is(err, errSKUNotFound) {
			web.WriteProblem(w, r, notFound)
			return
		}
		if err != nil {
			web.WriteError(w, r, logger, err)
			return
		}
		web.Encode(w, http.StatusOK, it)
	})
}

// handleSetStock sets the available quantity of a SKU (0 to 1,000,000),
// adding the SKU to the catalog when it is new, and optionally renames it;
// it answers 200 with the stored item. A SKU not matching
// ^[A-Z0-9][A-Z0-9-]{1,31}$ is a 400 problem; an invalid body a 400, 413,
// 415 or 422 problem (see web.Decode). The level replaces the old one: it
// is a stock count, not a delta, so a retried PUT does no harm.
func handleSetStock(logger *slog.Logger, store *Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sku := chi.URLParam(r, "sku")
		if !events.ValidSKU(sku) {
			p := web.NewProblem(web.ProblemMalformed, http.StatusBadRequest, "The SKU in the path is not valid; see errors.")
			p.Errors = map[string]string{"sku": "must be 2 to 32 characters A-Z, 0-9 and '-', not starting with '-'"}
			web.WriteProblem(w, r, p)
			return
		}
		req, err := web.Decode[setStockRequest](w, r, maxBodyBytes)
		if err != nil {
			web.WriteError(w, r, logger, err)
			return
		}
		var name *string
		if req.Name != nil {
			trimmed := strings.TrimSpace(*req.Name)
			name = &trimmed
		}
		it, created, err := store.SetStock(r.Context(), sku, *req.Available, name)
		if err != nil {
			web.WriteError(w, r, logger, err)
			return
		}
		logger.Info("stock level set", "sku", sku, "available", it.Available, "created", created,
			"request_id", web.RequestID(r.Context()))
		web.Encode(w, http.StatusOK, it)
	})
}
