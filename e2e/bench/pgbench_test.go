package bench

import "testing"

func TestParsePgbench(t *testing.T) {
	t.Parallel()
	// The report of pgbench 15 with a custom script.
	out := `transaction type: /tmp/orderbus-pgbench-1/order_outbox.sql
scaling factor: 1
query mode: prepared
number of clients: 8
number of threads: 2
maximum number of tries: 1
duration: 10 s
number of transactions actually processed: 36591
number of failed transactions: 0 (0.000%)
latency average = 2.186 ms
initial connection time = 12.345 ms
tps = 3659.123456 (without initial connection time)
`
	got, err := parsePgbench(out)
	if err != nil {
		t.Fatal(err)
	}
	want := PgbenchResult{TPS: 3659.123456, LatencyAvgMS: 2.186, Transactions: 36591}
	if got != want {
		t.Errorf("parsePgbench = %+v, want %+v", got, want)
	}
	if _, err := parsePgbench("pgbench: error: connection refused\n"); err == nil {
		t.Error("output without tps: no error")
	}
}
