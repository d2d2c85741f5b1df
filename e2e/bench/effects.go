package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/e2e/launcher"
)

// effects counts what the whole system has delivered, straight from the
// services' databases and the mail catcher, cheaply enough to poll.
type effects struct {
	order, inventory, email, sms *pgx.Conn
	mailAPI                      string
	hc                           *http.Client
}

// counts are delivered effects: orders with a final status, reservation
// decisions, sent receipts and apologies (mail rows), SMS rows, and mails
// in the catcher.
type counts struct {
	Decided, Decisions, Receipts, Apologies, Texts, Caught int
}

func (c counts) covers(want counts) bool {
	return c.Decided >= want.Decided && c.Decisions >= want.Decisions && c.Receipts >= want.Receipts &&
		c.Apologies >= want.Apologies && c.Texts >= want.Texts && c.Caught >= want.Caught
}

// orders returns how many orders have every per-order effect so far (a
// lower bound), for progress.
func (c counts) orders() int {
	n := c.Decided
	for _, v := range []int{c.Decisions, c.Receipts, c.Texts} {
		n = min(n, v)
	}
	return n
}

func openEffects(ctx context.Context, sys *launcher.System) (*effects, error) {
	e := &effects{mailAPI: sys.MailAPIURL(), hc: &http.Client{Timeout: 10 * time.Second}}
	for _, x := range []struct {
		svc  string
		conn **pgx.Conn
	}{{"order", &e.order}, {"inventory", &e.inventory}, {"email", &e.email}, {"sms", &e.sms}} {
		c, err := pgx.Connect(ctx, sys.DatabaseURL(x.svc))
		if err != nil {
			e.close()
			return nil, fmt.Errorf("effects: connect to the %s database: %w", x.svc, err)
		}
		*x.conn = c
	}
	return e, nil
}

func (e *effects) close() {
	for _, c := range []*pgx.Conn{e.order, e.inventory, e.email, e.sms} {
		if c != nil {
			_ = c.Close(context.Background())
		}
	}
}

func (e *effects) counts(ctx context.Context) (counts, error) {
	var c counts
	err := errors.Join(
		e.order.QueryRow(ctx, `SELECT count(*) FROM orders WHERE status <> 'pending'`).Scan(&c.Decided),
		e.inventory.QueryRow(ctx, `SELECT count(*) FROM reservations`).Scan(&c.Decisions),
		e.email.QueryRow(ctx, `SELECT count(*) FILTER (WHERE kind = 'receipt'), count(*) FILTER (WHERE kind = 'apology')
			FROM mails WHERE status = 'sent'`).Scan(&c.Receipts, &c.Apologies),
		e.sms.QueryRow(ctx, `SELECT count(*) FROM messages`).Scan(&c.Texts),
	)
	if err != nil {
		return c, fmt.Errorf("effects: count: %w", err)
	}
	total, _, err := e.newestMail(ctx)
	c.Caught = total
	return c, err
}

// newestMail returns how many mails the catcher holds and when the
// newest arrived.
func (e *effects) newestMail(ctx context.Context) (int, time.Time, error) {
	var page mailPage
	if err := e.getJSON(ctx, e.mailAPI+"/api/v1/messages?limit=1", &page); err != nil {
		return 0, time.Time{}, err
	}
	var newest time.Time
	if len(page.Messages) > 0 {
		newest = page.Messages[0].Created
	}
	return page.Total, newest, nil
}

// lastEffect returns when the last effect was recorded: the latest
// status change, reservation, mail and SMS row, and mail caught.
func (e *effects) lastEffect(ctx context.Context) (time.Time, error) {
	var ts [4]*time.Time
	err := errors.Join(
		e.order.QueryRow(ctx, `SELECT max(updated_at) FROM orders`).Scan(&ts[0]),
		e.inventory.QueryRow(ctx, `SELECT max(created_at) FROM reservations`).Scan(&ts[1]),
		e.email.QueryRow(ctx, `SELECT max(sent_at) FROM mails`).Scan(&ts[2]),
		e.sms.QueryRow(ctx, `SELECT max(sent_at) FROM messages`).Scan(&ts[3]),
	)
	if err != nil {
		return time.Time{}, fmt.Errorf("effects: last: %w", err)
	}
	_, last, err := e.newestMail(ctx)
	if err != nil {
		return time.Time{}, err
	}
	for _, t := range ts {
		if t != nil && t.After(last) {
			last = *t
		}
	}
	return last, nil
}

// wait polls until the counts cover want, ctx ends or limit passes; it
// reports each poll's progress and returns the last counts.
func (e *effects) wait(ctx context.Context, want counts, limit time.Duration, report func(counts)) (counts, error) {
	deadline := time.Now().Add(limit)
	for {
		c, err := e.counts(ctx)
		if err == nil {
			report(c)
			if c.covers(want) {
				return c, nil
			}
		}
		if time.Now().After(deadline) {
			if err != nil {
				return c, err
			}
			return c, fmt.Errorf("effects: after %v: %+v, want %+v", limit, c, want)
		}
		if !sleepUntil(ctx, time.Now().Add(200*time.Millisecond)) {
			return c, ctx.Err()
		}
	}
}

// mailPage is a page of Mailpit's GET /api/v1/messages, newest first.
type mailPage struct {
	Total    int `json:"total"`
	Messages []struct {
		MessageID string    `json:"MessageID"`
		Created   time.Time `json:"Created"`
	} `json:"messages"`
}

// receipts returns, for each accepted shot whose receipt the catcher
// holds, the time from its POST to the receipt's arrival in the catcher
// (Mailpit's Created, in milliseconds), and how many receipts it did not
// find. The receipt is matched by its Message-ID through the email
// service's mail rows.
func (e *effects) receipts(ctx context.Context, shots []Shot) ([]Sample, int, error) {
	byOrder := map[string]Shot{}
	ids := make([]string, 0, len(shots))
	for _, s := range shots {
		byOrder[s.Order.OrderID] = s
		ids = append(ids, s.Order.OrderID)
	}
	rows, err := e.email.Query(ctx, `SELECT order_id::text, message_id FROM mails
		WHERE kind = 'receipt' AND order_id = ANY($1::uuid[])`, ids)
	if err != nil {
		return nil, 0, fmt.Errorf("receipts: %w", err)
	}
	byMessage := map[string]Shot{}
	for rows.Next() {
		var orderID, msgID string
		if err := rows.Scan(&orderID, &msgID); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("receipts: %w", err)
		}
		byMessage[trimAngles(msgID)] = byOrder[orderID]
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("receipts: %w", err)
	}
	var out []Sample
	const pageSize = 1000
	for start := 0; len(byMessage) > 0; start += pageSize {
		var page mailPage
		url := fmt.Sprintf("%s/api/v1/messages?start=%d&limit=%d", e.mailAPI, start, pageSize)
		if err := e.getJSON(ctx, url, &page); err != nil {
			return nil, 0, fmt.Errorf("receipts: %w", err)
		}
		for _, m := range page.Messages {
			s, ok := byMessage[trimAngles(m.MessageID)]
			if !ok {
				continue
			}
			delete(byMessage, trimAngles(m.MessageID))
			out = append(out, Sample{At: s.At, Latency: max(0, m.Created.Sub(s.Sent))})
		}
		if len(page.Messages) < pageSize {
			break
		}
	}
	sortSamples(out)
	return out, len(shots) - len(out), nil
}

func (e *effects) getJSON(ctx context.Context, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		return fmt.Errorf("mail catcher: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("mail catcher: GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("mail catcher: GET %s: %w", url, err)
	}
	return nil
}

func trimAngles(id string) string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">")
}
