package bench

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Shot is one POST /v1/orders as a client saw it.
type Shot struct {
	// At is when it was sent, since the load began; Sent the wall clock
	// then (to compare with the mail catcher's timestamps).
	At      time.Duration
	Sent    time.Time
	Latency time.Duration
	// OK is a 2xx answer carrying an order id.
	OK bool
	// Order is the order placed, with the id answered when OK.
	Order order
	Err   string
}

// LoadFigures summarise a load: what was placed, how fast, how long the
// accepts took.
type LoadFigures struct {
	Mode    string  `json:"mode"` // closed or open
	Clients int     `json:"clients,omitempty"`
	Target  float64 `json:"target_rate,omitempty"`
	// Asked is the rate asked for when the open loop ran at a lower
	// Target because the system does not sustain it (see Options.NoCap).
	Asked  float64 `json:"asked_rate,omitempty"`
	Sent   int     `json:"sent"`
	Errors int     `json:"errors"`
	// FirstError is the first failure's text, if any.
	FirstError string  `json:"first_error,omitempty"`
	Seconds    float64 `json:"seconds"`
	// Rate is accepted orders per second over Seconds (first send to last
	// answer).
	Rate   float64 `json:"orders_per_s"`
	Accept Summary `json:"accept"`
	// MaxInFlight is the most requests an open loop had outstanding.
	MaxInFlight int `json:"max_in_flight,omitempty"`
}

// loadResult is a load's shots, in sending order, and its figures.
type loadResult struct {
	Shots   []Shot
	Figures LoadFigures
	Start   time.Time
	End     time.Time
}

// Samples returns the accept latency of every accepted order.
func (r loadResult) Samples() []Sample {
	var out []Sample
	for _, s := range r.Shots {
		if s.OK {
			out = append(out, Sample{At: s.At, Latency: s.Latency})
		}
	}
	return out
}

// Accepted returns the orders answered with an id, in sending order.
func (r loadResult) Accepted() []Shot {
	var out []Shot
	for _, s := range r.Shots {
		if s.OK {
			out = append(out, s)
		}
	}
	return out
}

// poster places orders against base/v1/orders.
type poster struct {
	base string
	hc   *http.Client
	done *atomic.Int64 // counts every answered or failed POST, for progress
}

func newPoster(base string, done *atomic.Int64) *poster {
	return &poster{base: base, done: done, hc: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConns: 2048, MaxIdleConnsPerHost: 2048, IdleConnTimeout: time.Minute},
	}}
}

// post sends o and returns the shot; start is the load's beginning.
func (p *poster) post(ctx context.Context, start time.Time, o order) Shot {
	sent := time.Now()
	s := Shot{At: sent.Sub(start), Sent: sent, Order: o}
	id, err := p.do(ctx, o.body)
	s.Latency = time.Since(sent)
	p.done.Add(1)
	if err != nil {
		s.Err = err.Error()
		return s
	}
	s.OK, s.Order.OrderID = true, id
	return s
}

func (p *poster) do(ctx context.Context, body []byte) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+"/v1/orders", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return "", err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", fmt.Errorf("POST /v1/orders: %s: %.200s", resp.Status, raw)
	}
	var answer struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil || answer.ID == "" {
		return "", fmt.Errorf("POST /v1/orders: 2xx answer without an order id: %.200q", raw)
	}
	return answer.ID, nil
}

// closedLoop runs clients that each place an order as soon as their last
// one was answered, until n orders (n > 0) or d (d > 0) or ctx ends. next
// must be safe for concurrent use; it is called once per order.
func closedLoop(ctx context.Context, p *poster, clients, n int, d time.Duration, next func() order) loadResult {
	start := time.Now()
	deadline := time.Time{}
	if d > 0 {
		deadline = start.Add(d)
	}
	var counter atomic.Int64
	per := make([][]Shot, clients)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				if n > 0 && counter.Add(1) > int64(n) {
					return
				}
				if !deadline.IsZero() && time.Now().After(deadline) {
					return
				}
				per[c] = append(per[c], p.post(ctx, start, next()))
			}
		})
	}
	wg.Wait()
	var shots []Shot
	for _, s := range per {
		shots = append(shots, s...)
	}
	sortShots(shots)
	res := finish(shots, start)
	res.Figures.Mode, res.Figures.Clients = "closed", clients
	return res
}

// openLoop sends orders at rate per second for d, each on its own
// goroutine whether or not earlier ones were answered (as independent
// customers would), with at most maxInFlight outstanding. next is called
// from one goroutine.
func openLoop(ctx context.Context, p *poster, rate float64, d time.Duration, maxInFlight int, next func() order) loadResult {
	n := int(rate * d.Seconds())
	shots := make([]Shot, n)
	sent := make([]bool, n)
	sem := make(chan struct{}, maxInFlight)
	var inFlight, most atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		if !sleepUntil(ctx, due) {
			break
		}
		o := next()
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		sent[i] = true
		cur := inFlight.Add(1)
		for m := most.Load(); cur > m && !most.CompareAndSwap(m, cur); m = most.Load() {
		}
		wg.Go(func() {
			defer func() { inFlight.Add(-1); <-sem }()
			shots[i] = p.post(ctx, start, o)
		})
	}
	wg.Wait()
	var kept []Shot
	for i, s := range shots {
		if sent[i] {
			kept = append(kept, s)
		}
	}
	res := finish(kept, start)
	res.Figures.Mode, res.Figures.Target, res.Figures.MaxInFlight = "open", rate, int(most.Load())
	return res
}

// finish computes a load's figures from its shots.
func finish(shots []Shot, start time.Time) loadResult {
	res := loadResult{Shots: shots, Start: start, End: start}
	f := &res.Figures
	f.Sent = len(shots)
	var lat []time.Duration
	for _, s := range shots {
		if end := s.Sent.Add(s.Latency); end.After(res.End) {
			res.End = end
		}
		if !s.OK {
			f.Errors++
			if f.FirstError == "" {
				f.FirstError = s.Err
			}
			continue
		}
		lat = append(lat, s.Latency)
	}
	f.Seconds = res.End.Sub(start).Seconds()
	if f.Seconds > 0 {
		f.Rate = float64(len(lat)) / f.Seconds
	}
	f.Accept = Summarize(lat)
	return res
}

func sortShots(shots []Shot) {
	slices.SortFunc(shots, func(a, b Shot) int { return cmp.Compare(a.At, b.At) })
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
