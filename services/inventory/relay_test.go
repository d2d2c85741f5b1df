package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/outbox"
	"github.com/orderbus/orderbus/pkg/servicetest"
)

// TestRelayPublishesLeftovers commits a result event to the outbox without
// publishing it, as a crash between a handler's commit and its publish
// would leave it: the background relay publishes it.
func TestRelayPublishesLeftovers(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	customerID, orderID := uuid.NewString(), uuid.NewString()
	ev, err := events.New(eventSource, events.TypeInventoryRejected, orderID, events.InventoryRejected{
		OrderID: orderID, CustomerID: customerID, MissingSKUs: []string{"MUG-WHITE"}, RejectedAt: time.Now().UTC(),
	})
	if err != nil {
		t.Fatal(err)
	}
	subject := events.InventoryRejectedSubject(customerID)
	err = pgx.BeginFunc(context.Background(), e.db, func(tx pgx.Tx) error {
		return outbox.Enqueue(context.Background(), tx, subject, ev)
	})
	if err != nil {
		t.Fatal(err)
	}

	servicetest.WaitFor(t, 10*time.Second, "the relay to publish the leftover", func() (bool, string) {
		n, rows := e.results(t, subject)[subject], e.count(t, "outbox")
		return n == 1 && rows == 0, fmt.Sprintf("%d messages on %s, %d outbox rows", n, subject, rows)
	})
	if got := e.lastResult(t, subject).Header.Get("ce-id"); got != ev.ID {
		t.Errorf("published ce-id = %q, want %q", got, ev.ID)
	}
}
