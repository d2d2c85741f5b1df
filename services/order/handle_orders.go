package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/pkg/auth"
	"github.com/orderbus/orderbus/pkg/erasure"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/web"
)

// maxBodyBytes limits request bodies.
const maxBodyBytes = 1 << 20

// orderPath is the URL path of an order, used in Location and links.
func orderPath(id uuid.UUID) string { return "/v1/orders/" + id.String() }

// links are the hypermedia links of an order in responses.
type links struct {
	Self string `json:"self"`
}

// itemJSON is an order line in responses.
type itemJSON struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

func itemsJSON(items []events.Item) []itemJSON {
	out := make([]itemJSON, len(items))
	for i, it := range items {
		out[i] = itemJSON(it)
	}
	return out
}

// handleCreateOrder stores an order and its order-placed event in one
// transaction and publishes the event at once after the commit
// (placeOrder). It answers 202 whether or not the publish
// succeeded: the outbox relay publishes what is left. With an
// Idempotency-Key, a retry by the same customer with the same body gets
// the first answer again (and creates nothing); a retry with another body
// gets a 422. Keys are scoped to the order's customer: another customer's
// use of the same key is another order. The answer holds an order token
// (auth.Keys.MintOrder, valid for tokenTTL), with which the customer reads
// this order; it is minted for each answer, never stored. The route is
// open to guests; a request that carries a customer token may only order
// for that customer (403 otherwise).
func handleCreateOrder(logger *slog.Logger, placer *placer, m *metrics, keys *auth.Keys, tokenTTL time.Duration) http.Handler {
	type response struct {
		ID        string    `json:"id"`
		Status    string    `json:"status"`
		CreatedAt time.Time `json:"created_at"`
		Links     links     `json:"links"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, err := idempotencyKey(r)
		if err != nil {
			web.WriteError(w, r, logger, err)
			return
		}
		body := hashBody(r)
		req, err := web.Decode[createOrderRequest](w, r, maxBodyBytes)
		if err != nil {
			web.WriteError(w, r, logger, err)
			return
		}
		p, err := newPlacement(req)
		if err != nil {
			web.WriteError(w, r, logger, err)
			return
		}
		o := p.Order
		if c, ok := auth.CallerFrom(r.Context()); ok && len(c.Roles) == 0 && !c.IsCustomer(o.Customer.ID) {
			auth.WriteForbidden(w, r, "A customer token may only place orders for its own customer id.")
			return
		}
		answer, err := json.Marshal(response{
			ID: o.ID.String(), Status: statusPending, CreatedAt: o.CreatedAt,
			Links: links{Self: orderPath(o.ID)},
		})
		if err != nil {
			web.WriteError(w, r, logger, fmt.Errorf("encode response: %w", err))
			return
		}
		answer = append(answer, '\n')
		if key != "" {
			p.Key = &idempotencyRecord{CustomerID: o.Customer.ID, Key: key, RequestHash: body.Sum(), StatusCode: http.StatusAccepted, Body: answer, OrderID: o.ID}
		}

		existing, published, err := placeOrder(r.Context(), logger, placer, p)
		if err != nil {
			web.WriteError(w, r, logger, err)
			return
		}
		if existing != nil {
			logger.Debug("idempotency key reused", "order_id", existing.OrderID, "request_id", web.RequestID(r.Context()))
			replay(w, r, logger, existing, body.Sum(), keys, o.Customer.ID, tokenTTL)
			return
		}
		m.ordersPlaced.Inc()
		logger.InfoContext(r.Context(), "order placed", "order_id", o.ID, "event_id", p.Event.ID, "items", len(o.Items),
			"published", published, "request_id", web.RequestID(r.Context()))

		answer, err = withOrderToken(answer, keys, o.Customer.ID, o.ID, tokenTTL)
		if err != nil {
			web.WriteError(w, r, logger, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Location", orderPath(o.ID))
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write(answer)
	})
}

// withOrderToken returns the JSON object answer with a "token" member: an
// order token of customerID for orderID.
func withOrderToken(answer []byte, keys *auth.Keys, customerID string, orderID uuid.UUID, ttl time.Duration) ([]byte, error) {
	token, err := keys.MintOrder(customerID, orderID.String(), ttl)
	if err != nil {
		return nil, fmt.Errorf("order token: %w", err)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(answer, &obj); err != nil {
		return nil, fmt.Errorf("decode answer: %w", err)
	}
	obj["token"], _ = json.Marshal(token)
	out, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encode answer: %w", err)
	}
	return append(out, '\n'), nil
}

// placement is everything placeOrder writes in one transaction.
type placement struct {
	Order   order
	Subject string       // NATS subject of Event
	Event   events.Event // the order-placed event for the outbox
	Key     *idempotencyRecord
}

// erasedMeanwhile answers an order whose customer was erased, with a
// cut-off after the order's time, while it was being stored: nothing is
// stored, and a retry places it as a new order, timed after the erasure.
func erasedMeanwhile() error {
	return web.NewProblem(web.ProblemConflict, http.StatusConflict,
		"The customer's data was being erased while this order was placed; nothing is stored. Retry the request.")
}

// placeOrder stores p in one transaction, shared with the orders of
// concurrent requests (placer): the idempotency record when p.Key is set,
// the order (insertOrder) and its event in the outbox, and then publishes
// the event at once; published reports whether it went
// out (else the outbox relay publishes it later). When p.Key's key is
// taken it stores nothing and returns the existing record (waiting for a
// transaction still holding the key to end). It returns the error of a
// statement or the commit. The common case, a new key or none, is two
// round trips to the database for the whole group (placeFast, or
// placer.placeTogether); a taken key costs a second transaction that reads
// the record.
func placeOrder(ctx context.Context, logger *slog.Logger, placer *placer, p placement) (existing *idempotencyRecord, published bool, err error) {
	store, relay := placer.store, placer.relay
	published, err = placer.place(ctx, p)
	if err == nil {
		return nil, published, nil
	}
	if erasure.ErasedMeanwhile(err) {
		return nil, false, erasedMeanwhile()
	}
	if !errors.Is(err, errKeyTaken) {
		return nil, false, fmt.Errorf("place order: %w", err)
	}
	err = pgx.BeginFunc(ctx, store.pool, func(tx pgx.Tx) error {
		rec, err := claimIdempotencyKey(ctx, tx, *p.Key)
		if err != nil || rec != nil {
			existing = rec
			return err
		}
		// The key's holder was deleted (erased) since placeFast: store
		// the order after all.
		if err := insertOrder(ctx, tx, p.Order); err != nil {
			return err
		}
		if err := outbox.Enqueue(ctx, tx, p.Subject, p.Event); err != nil {
			return fmt.Errorf("enqueue event for order %s: %w", p.Order.ID, err)
		}
		return nil
	})
	if erasure.ErasedMeanwhile(err) {
		return nil, false, erasedMeanwhile()
	}
	if err != nil {
		return nil, false, fmt.Errorf("place order: %w", err)
	}
	if existing != nil {
		return existing, false, nil
	}
	return nil, relay.PublishNow(ctx, logger, p.Event.ID), nil
}

// newPlacement builds the order and its event from a valid request. The
// customer id is stored in canonical (lower-case) form, so that one customer
// always maps to one NATS subject.
func newPlacement(req createOrderRequest) (placement, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return placement{}, fmt.Errorf("new order id: %w", err)
	}
	customerID, err := uuid.Parse(req.Customer.ID)
	if err != nil {
		return placement{}, fmt.Errorf("parse validated customer id: %w", err)
	}
	o := order{
		ID: id,
		Customer: events.Customer{
			ID:    customerID.String(),
			Name:  strings.TrimSpace(req.Customer.Name),
			Email: req.Customer.Email,
			Phone: req.Customer.Phone,
		},
		Status: statusPending,
		Items:  make([]events.Item, len(req.Items)),
		// PostgreSQL keeps microseconds: the answer and the event show what is stored.
		CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
	}
	for i, it := range req.Items {
		o.Items[i] = events.Item{SKU: it.SKU, Quantity: it.Quantity}
	}
	ev, err := events.New(eventSource, events.TypeOrderPlaced, o.ID.String(), events.OrderPlaced{
		OrderID:  o.ID.String(),
		Customer: o.Customer,
		Items:    o.Items,
		PlacedAt: o.CreatedAt,
	})
	if err != nil {
		return placement{}, fmt.Errorf("build order placed event: %w", err)
	}
	return placement{Order: o, Subject: events.OrderPlacedSubject(o.Customer.ID), Event: ev}, nil
}
