package chaos

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/orderbus/orderbus/e2e/launcher"
)

// collectTimeout bounds one reading of the system: a JetStream API
// request that gets no answer (a cluster electing a leader may drop one)
// fails that reading, and the next one asks again.
const collectTimeout = 30 * time.Second

// settle checks the system every two seconds until two checks in a row
// pass or limit passes, and returns the last report and whether it
// settled. Reading the system failing past the limit is an error.
func settle(ctx context.Context, sys *launcher.System, exp Expectation, limit time.Duration, log *slog.Logger) (*Report, bool, error) {
	deadline := time.Now().Add(limit)
	var (
		last   *Report
		lastOK bool
		err    error
	)
	for {
		var snap Snapshot
		cctx, cancel := context.WithTimeout(ctx, collectTimeout)
		snap, err = Collect(cctx, sys)
		cancel()
		if err == nil {
			last = Check(exp, snap)
			if last.OK() && lastOK {
				return last, true, nil
			}
			lastOK = last.OK()
			if !lastOK {
				log.Info("settling", "findings", len(last.Findings), "first", last.Findings[0])
			}
		} else {
			log.Info("settling: reading the system", "error", err)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			if last == nil {
				return nil, false, fmt.Errorf("chaos: check: %w", err)
			}
			return last, false, nil
		}
		sleepUntil(ctx, time.Now().Add(2*time.Second))
	}
}

// audit records as findings what the run itself did wrong.
func (r *Result) audit(opts Options) {
	done := map[string]int{}
	for _, e := range r.Faults {
		if e.Error != "" {
			msg := e.Error
			if len(msg) > 300 {
				msg = msg[:300] + "..."
			}
			r.Findings = append(r.Findings, fmt.Sprintf("fault %s on %s failed: %s", e.Kind, e.Target, msg))
			continue
		}
		key := e.Kind
		if e.Kind == KillService {
			key += "/" + e.Target
		}
		done[key]++
	}
	for _, k := range opts.Faults {
		want := opts.Counts[k]
		if k == KillService {
			for _, svc := range launcher.DefaultServices() {
				if done[k+"/"+svc] < want {
					r.Findings = append(r.Findings, fmt.Sprintf("fault %s of %s executed %d times, want %d", k, svc, done[k+"/"+svc], want))
				}
			}
			continue
		}
		if done[k] < want {
			r.Findings = append(r.Findings, fmt.Sprintf("fault %s executed %d times, want %d", k, done[k], want))
		}
	}
	if n := len(r.Client.Refused); n > 0 {
		r.Findings = append(r.Findings, fmt.Sprintf("%d orders refused with a final 4xx, e.g. %s", n, r.Client.Refused[0]))
	}
	if r.Client.Unanswered > 0 {
		r.Findings = append(r.Findings, fmt.Sprintf("%d orders never got a 2xx answer", r.Client.Unanswered))
	}
	if !r.Settled {
		r.Findings = append(r.Findings, fmt.Sprintf("the system did not settle within %v", opts.Settle))
	}
}

// setStock sets every SKU's available stock, retrying briefly.
func setStock(ctx context.Context, hc *http.Client, base string, stock map[string]int) error {
	for sku, n := range stock {
		body := fmt.Appendf(nil, `{"available": %d}`, n)
		_, err := retry(ctx, func() error {
			req, err := http.NewRequestWithContext(ctx, http.MethodPut, base+"/v1/stock/"+sku, bytes.NewReader(body))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+launcher.DevOperatorToken())
			resp, err := hc.Do(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("PUT /v1/stock/%s: %s", sku, resp.Status)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("set stock of %s: %w", sku, err)
		}
	}
	return nil
}
