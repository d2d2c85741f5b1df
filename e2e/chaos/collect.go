package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/e2e/launcher"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsauth"
	"github.com/orderbus/orderbus/pkg/stack"
)

// Collect reads a snapshot of sys directly: each service's database (not
// through its proxy), JetStream's consumer and stream state, and every
// mail the catcher holds. It returns the first error met.
func Collect(ctx context.Context, sys *launcher.System) (Snapshot, error) {
	var snap Snapshot
	var err error
	q := func(service, sql string, scan func(pgx.Rows) error) {
		if err == nil {
			err = query(ctx, sys.DatabaseURL(service), sql, scan)
		}
	}
	q("order", `SELECT id::text, customer_id::text, status FROM orders`, func(r pgx.Rows) error {
		var o OrderRow
		err := r.Scan(&o.ID, &o.CustomerID, &o.Status)
		snap.Orders = append(snap.Orders, o)
		return err
	})
	q("inventory", `SELECT order_id::text, status FROM reservations`, func(r pgx.Rows) error {
		var x ReservationRow
		err := r.Scan(&x.OrderID, &x.Status)
		snap.Reservations = append(snap.Reservations, x)
		return err
	})
	q("inventory", `SELECT order_id::text, sku, quantity FROM reservation_lines`, func(r pgx.Rows) error {
		var l LineRow
		err := r.Scan(&l.OrderID, &l.SKU, &l.Quantity)
		snap.Lines = append(snap.Lines, l)
		return err
	})
	snap.Stock = map[string]int{}
	q("inventory", `SELECT sku, available FROM stock`, func(r pgx.Rows) error {
		var sku string
		var n int
		err := r.Scan(&sku, &n)
		snap.Stock[sku] = n
		return err
	})
	q("email", `SELECT order_id::text, kind, message_id, recipient, status FROM mails`, func(r pgx.Rows) error {
		var m MailRow
		err := r.Scan(&m.OrderID, &m.Kind, &m.MessageID, &m.Recipient, &m.Status)
		m.MessageID = trimAngles(m.MessageID)
		snap.Mails = append(snap.Mails, m)
		return err
	})
	q("sms", `SELECT order_id::text, status FROM messages`, func(r pgx.Rows) error {
		var t TextRow
		err := r.Scan(&t.OrderID, &t.Status)
		snap.Texts = append(snap.Texts, t)
		return err
	})
	if err != nil {
		return snap, err
	}
	if snap.Outboxes, err = outboxes(ctx, sys); err != nil {
		return snap, err
	}
	if snap.Consumers, snap.DeadLetters, err = jetStreamState(ctx, sys.NATSUserURL(natsauth.UserReader)); err != nil {
		return snap, err
	}
	if snap.Caught, err = caughtMails(ctx, sys.MailAPIURL()); err != nil {
		return snap, err
	}
	return snap, nil
}

// outboxes counts the rows left in every service's outbox.
func outboxes(ctx context.Context, sys *launcher.System) (map[string]int, error) {
	out := map[string]int{}
	for _, svc := range sys.Services() {
		n := 0
		err := query(ctx, sys.DatabaseURL(svc), `SELECT count(*) FROM outbox`, func(r pgx.Rows) error {
			return r.Scan(&n)
		})
		if err != nil {
			return nil, err
		}
		out[svc] = n
	}
	return out, nil
}

func query(ctx context.Context, url, sql string, scan func(pgx.Rows) error) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("collect: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return fmt.Errorf("collect: %s: %w", sql, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("collect: %s: %w", sql, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("collect: %s: %w", sql, err)
	}
	return nil
}

// jetStreamState returns every durable consumer of the ORDERS, INVENTORY
// and GDPR streams, and the number of messages in the DLQ (0 when the
// DLQ stream does not exist), connecting to url as the read-only identity.
func jetStreamState(ctx context.Context, url string) ([]ConsumerState, int, error) {
	nc, err := nats.Connect(url, nats.Name("orderbus-chaos-checker"),
		nats.CustomInboxPrefix(natsauth.InboxPrefix(natsauth.UserReader)))
	if err != nil {
		return nil, 0, fmt.Errorf("collect: connect nats: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, 0, fmt.Errorf("collect: %w", err)
	}
	var states []ConsumerState
	for _, name := range []string{events.StreamOrders, events.StreamInventory, events.StreamGDPR} {
		stream, err := js.Stream(ctx, name)
		if err != nil {
			return nil, 0, fmt.Errorf("collect: stream %s: %w", name, err)
		}
		lister := stream.ListConsumers(ctx)
		for info := range lister.Info() {
			states = append(states, ConsumerState{
				Stream: name, Durable: info.Name,
				Pending: info.NumPending, AckPending: uint64(info.NumAckPending),
				Delivered: info.Delivered.Consumer,
			})
		}
		if err := lister.Err(); err != nil {
			return nil, 0, fmt.Errorf("collect: consumers of %s: %w", name, err)
		}
	}
	dlq, err := js.Stream(ctx, events.StreamDLQ)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return states, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("collect: stream %s: %w", events.StreamDLQ, err)
	}
	info, err := dlq.Info(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("collect: stream %s: %w", events.StreamDLQ, err)
	}
	return states, int(info.State.Msgs), nil
}

// caughtMails lists every mail Mailpit holds from its message summaries
// (GET /api/v1/messages, a page at a time), which carry the Message-ID,
// recipients and subject: one request per page, not two per mail.
func caughtMails(ctx context.Context, base string) ([]CaughtMail, error) {
	const pageSize = 1000
	var out []CaughtMail
	seen := map[string]bool{}
	for start := 0; ; {
		var page struct {
			MessagesCount int `json:"messages_count"`
			Messages      []struct {
				ID, MessageID, Subject string
				To                     []struct{ Address string }
			} `json:"messages"`
		}
		url := fmt.Sprintf("%s/api/v1/messages?start=%d&limit=%d", base, start, pageSize)
		if err := getJSON(ctx, url, &page); err != nil {
			return nil, fmt.Errorf("collect: mails: %w", err)
		}
		for _, m := range page.Messages {
			if seen[m.ID] {
				continue
			}
			seen[m.ID] = true
			c := CaughtMail{MessageID: trimAngles(m.MessageID), Subject: m.Subject}
			for _, to := range m.To {
				c.To = append(c.To, to.Address)
			}
			out = append(out, c)
		}
		start += len(page.Messages)
		if len(page.Messages) == 0 || start >= page.MessagesCount {
			return out, nil
		}
	}
}

func getJSON(ctx context.Context, url string, out any) error {
	body, err := stack.Get(ctx, url)
	if err != nil {
		return err
	}
	return json.Unmarshal(body, out)
}

func trimAngles(id string) string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">")
}
