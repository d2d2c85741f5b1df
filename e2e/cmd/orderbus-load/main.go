// Command orderbus-load places orders against orderbus as fast as a fixed
// number of clients can, and prints what it measured: orders accepted per
// second, the latency of POST /v1/orders, and how long the receipts took
// to arrive in the mail catcher.
//
// Without -url it starts its own system with the launcher (free ports on
// 127.0.0.1, a throwaway PostgreSQL cluster) and stops it at the end; with
// -url it loads a system already running, such as `make run`'s. It sends
// traffic to loopback only, and its work is bounded by -orders and -timeout.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/orderbus/orderbus/e2e/launcher"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "orderbus-load:", err)
		os.Exit(1)
	}
}

type options struct {
	orderURL, mailURL string
	inventoryURL      string
	orders, clients   int
	timeout           time.Duration
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	var o options
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.StringVar(&o.orderURL, "url", "", "order service base URL (empty: start a system with the launcher)")
	fs.StringVar(&o.mailURL, "mail-api", "", "Mailpit API base URL to count receipts (with -url; empty: do not wait for mail)")
	fs.StringVar(&o.inventoryURL, "inventory-url", "", "inventory service base URL, to stock enough for every order (with -url; empty: leave stock as it is)")
	fs.IntVar(&o.orders, "orders", 2000, "orders to place")
	fs.IntVar(&o.clients, "clients", 16, "concurrent HTTP clients")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up after this long")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if o.orders < 1 || o.clients < 1 {
		return errors.New("-orders and -clients must be at least 1")
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	if o.orderURL == "" {
		fmt.Fprintln(stdout, "starting a system with the launcher (free ports on 127.0.0.1)...")
		sys, err := launcher.Start(ctx, launcher.Config{})
		if err != nil {
			return err
		}
		defer sys.Close(context.WithoutCancel(ctx))
		o.orderURL, o.mailURL, o.inventoryURL = sys.OrderURL(), sys.MailAPIURL(), sys.ServiceURL("inventory")
	}
	for _, u := range []string{o.orderURL, o.mailURL, o.inventoryURL} {
		if err := loopbackOnly(u); err != nil {
			return err
		}
	}
	return load(ctx, o, stdout)
}

// load places the orders and prints the figures.
func load(ctx context.Context, o options, stdout io.Writer) error {
	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: o.clients},
	}
	if o.inventoryURL != "" {
		// Enough stock for every order, so that each gets one receipt and
		// no apology: the figures are of the order path, not of rejections.
		for sku, perOrder := range loadItems() {
			if err := setStock(ctx, client, o.inventoryURL, sku, perOrder*o.orders); err != nil {
				return err
			}
		}
	}
	mailsBefore := 0
	if o.mailURL != "" {
		n, err := countMails(ctx, client, o.mailURL)
		if err != nil {
			return err
		}
		mailsBefore = n
	}

	var next atomic.Int64
	latencies := make([][]time.Duration, o.clients)
	var failures atomic.Int64
	var firstErr error
	var errOnce sync.Once
	start := time.Now()
	var wg sync.WaitGroup
	for c := range o.clients {
		wg.Go(func() {
			for next.Add(1) <= int64(o.orders) && ctx.Err() == nil {
				t0 := time.Now()
				if err := placeOrder(ctx, client, o.orderURL); err != nil {
					failures.Add(1)
					errOnce.Do(func() { firstErr = err })
					continue
				}
				latencies[c] = append(latencies[c], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	all := slices.Concat(latencies...)
	slices.Sort(all)
	fmt.Fprintf(stdout, "\nPOST /v1/orders: %d accepted, %d failed, %d clients, in %v\n",
		len(all), failures.Load(), o.clients, elapsed.Round(time.Millisecond))
	if len(all) > 0 {
		fmt.Fprintf(stdout, "  throughput  %.0f orders/s\n", float64(len(all))/elapsed.Seconds())
		fmt.Fprintf(stdout, "  latency     p50 %v  p90 %v  p99 %v  max %v\n",
			pct(all, 50), pct(all, 90), pct(all, 99), all[len(all)-1])
	}
	if firstErr != nil {
		fmt.Fprintf(stdout, "  first error %v\n", firstErr)
	}
	if o.mailURL == "" || len(all) == 0 {
		return nil
	}

	want := mailsBefore + len(all)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		n, err := countMails(ctx, client, o.mailURL)
		if err != nil {
			return err
		}
		if n >= want {
			total := time.Since(start)
			fmt.Fprintf(stdout, "receipts: %d arrived %v after the first order (%.0f mails/s end to end), %v after the last was accepted\n",
				n-mailsBefore, total.Round(time.Millisecond), float64(n-mailsBefore)/total.Seconds(),
				(total - elapsed).Round(time.Millisecond))
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("receipts: %d of %d arrived before the timeout", n-mailsBefore, len(all))
		case <-tick.C:
		}
	}
}

func placeOrder(ctx context.Context, client *http.Client, base string) error {
	body, err := json.Marshal(map[string]any{
		"customer": map[string]string{
			"id": uuid.NewString(), "name": "Load Test", "email": "load@example.com", "phone": "+15555550100",
		},
		"items": items(),
	})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/orders", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("POST /v1/orders: %s", resp.Status)
	}
	return nil
}

// loadItems returns the SKUs and quantities of every order placed.
func loadItems() map[string]int { return map[string]int{"ESPRESSO-1KG": 1, "MUG-WHITE": 2} }

func items() []map[string]any {
	var out []map[string]any
	for sku, n := range loadItems() {
		out = append(out, map[string]any{"sku": sku, "quantity": n})
	}
	return out
}

// setStock sets the available stock of sku.
func setStock(ctx context.Context, client *http.Client, base, sku string, n int) error {
	body, err := json.Marshal(map[string]int{"available": n})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, base+"/v1/stock/"+sku, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+launcher.DevOperatorToken())
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("set stock of %s: %w", sku, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("set stock of %s: %s", sku, resp.Status)
	}
	return nil
}

// countMails returns the number of messages Mailpit holds.
func countMails(ctx context.Context, client *http.Client, base string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/messages?limit=1", nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("count mails: %w", err)
	}
	defer resp.Body.Close()
	var page struct {
		Total int `json:"total"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return 0, fmt.Errorf("count mails: %w", err)
	}
	return page.Total, nil
}

func pct(sorted []time.Duration, p int) time.Duration {
	i := min(len(sorted)-1, len(sorted)*p/100)
	return sorted[i].Round(10 * time.Microsecond)
}

// loopbackOnly refuses any target but this machine: a load tool must not
// be pointed at someone else's server by accident.
func loopbackOnly(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("parse %q: %w", raw, err)
	}
	switch u.Hostname() {
	case "127.0.0.1", "localhost", "::1":
		return nil
	}
	return fmt.Errorf("%s: only loopback targets (127.0.0.1, localhost, ::1) are allowed", raw)
}
