package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

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
// transaction, then publishes the event at once when NATS is connected,
// waiting up to publishTimeout for the PubAck. It answers 202 whether or not
// the publish succeeded: the outbox relay publishes what is left. With an
// Idempotency-Key, a retry with the same body gets the first answer again
// (and creates nothing); a retry with another body gets a 422.
func handleCreateOrder(logger *slog.Logger, store *Store, relay *outbox.Relay, nc *nats.Conn, m *metrics, publishTimeout time.Duration) http.Handler {
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
			p.Key = &idempotencyRecord{Key: key, RequestHash: body.Sum(), StatusCode: http.StatusAccepted, Body: answer, OrderID: o.ID}
		}

		existing, err := store.PlaceOrder(r.Context(), p)
		if err != nil {
			web.WriteError(w, r, logger, err)
			return
		}
		if existing != nil {
			logger.Debug("idempotency key reused", "order_id", existing.OrderID, "request_id", web.RequestID(r.Context()))
			replay(w, r, existing, body.Sum())
			return
		}
		m.ordersPlaced.Inc()
		published := publishNow(r.Context(), logger, relay, nc, p.Event.ID, publishTimeout)
		logger.Info("order placed", "order_id", o.ID, "event_id", p.Event.ID, "items", len(o.Items),
			"published", published, "request_id", web.RequestID(r.Context()))

		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Location", orderPath(o.ID))
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write(answer)
	})
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

// publishNow publishes the committed event through the relay when NATS is
// connected and reports whether that succeeded. A failure is only logged:
// the event is safe in the outbox and the relay publishes it later. (When
// the relay's own tick has locked the row at that moment, Publish skips it
// and succeeds at once; the tick publishes it.)
func publishNow(ctx context.Context, logger *slog.Logger, relay *outbox.Relay, nc *nats.Conn, eventID string, timeout time.Duration) bool {
	if status := nc.Status(); status != nats.CONNECTED {
		logger.Warn("nats not connected; the outbox relay will publish the event",
			"event_id", eventID, "nats_status", status.String())
		return false
	}
	// The event goes out even if the client hangs up: it is committed.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := relay.Publish(ctx, eventID); err != nil {
		logger.Warn("publish failed; the outbox relay will retry", "event_id", eventID, "error", err)
		return false
	}
	return true
}
