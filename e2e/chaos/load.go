package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ClientStats is what the clients saw: every POST they made, every retry
// (a POST repeated with the same Idempotency-Key), and how the answers
// that were not a 2xx split.
type ClientStats struct {
	Orders  int `json:"orders"`
	Answers int `json:"answered_2xx"`
	// Replayed counts 2xx answers marked Idempotent-Replayed: a retry
	// whose first attempt had been committed.
	Replayed        int            `json:"replayed"`
	Attempts        int            `json:"attempts"`
	Retries         int            `json:"retries"`
	MaxAttempts     int            `json:"max_attempts_one_order"`
	TransportErrors int            `json:"transport_errors"`
	Statuses        map[string]int `json:"statuses_retried"`
	// Refused lists orders answered with a 4xx that retrying cannot
	// change; Unanswered those still without a 2xx when the load ended.
	Refused    []string      `json:"refused"`
	Unanswered int           `json:"unanswered"`
	Elapsed    time.Duration `json:"elapsed_ns"`
}

// loader places a plan's orders from a number of clients at a rate.
type loader struct {
	base    string
	rate    float64
	clients int
	timeout time.Duration
	hc      *http.Client
}

// run places every order of p, each at its turn (start + i/rate), each
// retried with the same key and body until a 2xx answer or ctx ends. It
// returns the accepted orders in the order they were placed.
func (l *loader) run(ctx context.Context, p plan) ([]Placed, ClientStats) {
	stats := ClientStats{Orders: len(p.Orders), Statuses: map[string]int{}}
	accepted := make([]*Placed, len(p.Orders))
	var (
		next atomic.Int64
		mu   sync.Mutex
		wg   sync.WaitGroup
	)
	start := time.Now()
	for c := range l.clients {
		rng := rand.New(rand.NewPCG(uint64(c), 7))
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(p.Orders) {
					return
				}
				turn := start.Add(time.Duration(float64(i) / l.rate * float64(time.Second)))
				if !sleepUntil(ctx, turn) {
					return
				}
				res := l.place(ctx, rng, p.Orders[i])
				mu.Lock()
				stats.add(res)
				if res.placed != nil {
					accepted[i] = res.placed
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	stats.Elapsed = time.Since(start)
	var out []Placed
	for _, a := range accepted {
		if a != nil {
			out = append(out, *a)
		}
	}
	stats.Unanswered = stats.Orders - stats.Answers - len(stats.Refused)
	return out, stats
}

// placeResult is one order's outcome.
type placeResult struct {
	placed          *Placed
	attempts        int
	replayed        bool
	transportErrors int
	statuses        map[string]int
	refused         string
}

func (s *ClientStats) add(r placeResult) {
	s.Attempts += r.attempts
	s.Retries += max(0, r.attempts-1)
	s.MaxAttempts = max(s.MaxAttempts, r.attempts)
	s.TransportErrors += r.transportErrors
	for k, v := range r.statuses {
		s.Statuses[k] += v
	}
	if r.placed != nil {
		s.Answers++
	}
	if r.replayed {
		s.Replayed++
	}
	if r.refused != "" {
		s.Refused = append(s.Refused, r.refused)
	}
}

// place POSTs o until a 2xx answer: a transport error, a timeout, a 5xx,
// a 409 or a 429 is retried after a short backoff with the same key and
// the same bytes, as a real client would; any other answer is final.
func (l *loader) place(ctx context.Context, rng *rand.Rand, o order) placeResult {
	res := placeResult{statuses: map[string]int{}}
	body, err := json.Marshal(map[string]any{
		"customer": map[string]string{"id": o.Customer.ID, "name": o.Customer.Name, "email": o.Customer.Email, "phone": o.Customer.Phone},
		"items":    o.Items,
	})
	if err != nil {
		res.refused = fmt.Sprintf("key %s: encode: %v", o.Key, err)
		return res
	}
	delay := 50 * time.Millisecond
	for ctx.Err() == nil {
		res.attempts++
		status, id, replayed, err := l.post(ctx, o.Key, body)
		switch {
		case err != nil:
			res.transportErrors++
		case status >= 200 && status < 300:
			res.replayed = replayed
			res.placed = &Placed{OrderID: id, Key: o.Key, CustomerID: o.Customer.ID, Email: o.Customer.Email, Items: o.Items}
			return res
		case status >= 500 || status == http.StatusConflict || status == http.StatusTooManyRequests:
			res.statuses[fmt.Sprint(status)]++
		default:
			res.refused = fmt.Sprintf("key %s: answered %d", o.Key, status)
			return res
		}
		jitter := time.Duration(rng.Int64N(int64(delay)))
		if !sleepUntil(ctx, time.Now().Add(delay/2+jitter)) {
			break
		}
		delay = min(2*delay, 2*time.Second)
	}
	return res
}

// post sends one POST /v1/orders and returns the status, the order id of
// a 2xx answer and whether it was a replay.
func (l *loader) post(ctx context.Context, key string, body []byte) (int, string, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.base+"/v1/orders", bytes.NewReader(body))
	if err != nil {
		return 0, "", false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := l.hc.Do(req)
	if err != nil {
		return 0, "", false, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return 0, "", false, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, "", false, nil
	}
	var answer struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil || answer.ID == "" {
		return 0, "", false, fmt.Errorf("2xx answer without an order id: %q", raw)
	}
	return resp.StatusCode, answer.ID, resp.Header.Get("Idempotent-Replayed") == "true", nil
}

// sleepUntil waits until t or ctx ends; it reports false if ctx ended.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
