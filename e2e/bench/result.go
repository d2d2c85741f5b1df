package bench

import (
	"encoding/json"
	"io"
	"time"

	"github.com/orderbus/orderbus/e2e/chaos"
)

// Result is everything a Run measured. Samples are kept for the picture
// and left out of result.json.
type Result struct {
	Started  time.Time `json:"started"`
	Seconds  float64   `json:"seconds"`
	Host     Host      `json:"host"`
	Settings Settings  `json:"settings"`
	// Pgbench holds the run with one client, then with Settings.Clients.
	Pgbench    []PgbenchResult `json:"pgbench"`
	OrderAlone OrderAlone      `json:"order_alone"`
	Whole      Whole           `json:"whole_system"`
	Latency    Latency         `json:"latency_under_load"`
	SlowSMTP   SlowSMTP        `json:"slow_smtp"`
	Footprint  []Footprint     `json:"footprint"`
	Targets    []Target        `json:"targets"`

	samples samples
}

// Host describes the machine and the durability settings measured under.
type Host struct {
	CPUs       int    `json:"cpus"`
	Kernel     string `json:"kernel"`
	GoVersion  string `json:"go"`
	PostgreSQL string `json:"postgresql"`
	// Durability is what PostgreSQL and NATS ran with.
	Durability string `json:"durability"`
	// LoadStart and LoadEnd are the machine's 1-minute load average when
	// the run began and ended: well above what the run itself causes
	// (about the CPU count) means other work shared the machine.
	LoadStart float64 `json:"loadavg_start"`
	LoadEnd   float64 `json:"loadavg_end"`
}

// Settings are the Options that shaped the run, in plain units.
type Settings struct {
	Clients        int     `json:"clients"`
	PgbenchSeconds float64 `json:"pgbench_s"`
	OrderSeconds   float64 `json:"order_closed_s"`
	OpenRate       float64 `json:"order_open_rate"`
	OpenSeconds    float64 `json:"order_open_s"`
	Orders         int     `json:"whole_orders"`
	LatencyRate    float64 `json:"latency_rate"`
	LatencySeconds float64 `json:"latency_s"`
	SMTPDelayMS    float64 `json:"smtp_delay_ms"`
	BaselineRate   float64 `json:"baseline_rate"`
	Seed           uint64  `json:"seed"`
}

// OrderAlone is the order service with no consumers behind it.
type OrderAlone struct {
	Closed LoadFigures `json:"closed_loop"`
	Open   LoadFigures `json:"open_loop"`
	// ShareOfPgbench is Closed.Rate over pgbench's rate at as many clients.
	ShareOfPgbench float64 `json:"share_of_pgbench"`
	// Machine is how every CPU of the machine spent the closed loop.
	Machine MachineCPU `json:"machine_cpu"`
}

// Whole is the whole system's closed loop, until every effect of every
// order was delivered.
type Whole struct {
	Load LoadFigures `json:"load"`
	// Rejections is how many accepted orders the limited stock rejects.
	Rejections int `json:"rejections"`
	// ProcessedSeconds runs from the first POST to the last effect
	// recorded (a status change, reservation, mail or SMS row, or a mail
	// arriving in the catcher); ProcessedRate is accepted orders over it.
	ProcessedSeconds float64 `json:"processed_s"`
	ProcessedRate    float64 `json:"processed_orders_per_s"`
	ShareOfPgbench   float64 `json:"processed_share_of_pgbench"`
	// Reconciled tells whether e2e/chaos's checker found every effect
	// once (Findings lists what it found otherwise).
	// Machine is how every CPU of the machine spent the closed loop.
	Machine    MachineCPU     `json:"machine_cpu"`
	Reconciled bool           `json:"reconciled"`
	Findings   []string       `json:"findings,omitempty"`
	Effects    []chaos.Effect `json:"effects"`
}

// Latency is the whole system under an open-loop load with a fast SMTP
// server: accepts, and the time from POST to the receipt in the catcher.
type Latency struct {
	Load    LoadFigures `json:"load"`
	Receipt Summary     `json:"order_to_receipt"`
	// ReceiptMissing counts accepted orders whose receipt was not found.
	ReceiptMissing int `json:"receipt_missing"`
}

// SlowSMTP is the same open-loop load with the SMTP server answering
// every command late, next to the synchronous baseline.
type SlowSMTP struct {
	DelayMS float64     `json:"delay_ms"`
	Load    LoadFigures `json:"load"`
	// P99Ratio is Load's accept p99 over the fast-SMTP run's.
	P99Ratio float64     `json:"accept_p99_ratio"`
	Baseline LoadFigures `json:"synchronous_baseline"`
}

// Footprint is one process's memory and CPU.
type Footprint struct {
	Process string `json:"process"`
	// RSSIdleMB is the resident memory before the whole system's load,
	// RSSPeakMB the most seen during it (0: not measured).
	RSSIdleMB float64 `json:"rss_idle_mb"`
	RSSPeakMB float64 `json:"rss_peak_mb"`
	// CPUPerOrderMS is CPU time (user+system) during the whole system's
	// closed loop, over its orders; OrderAloneCPUPerOrderMS the same in
	// the order service's closed loop (0: not running then).
	CPUPerOrderMS float64 `json:"cpu_ms_per_order"`
	// SystemShare is the share of CPUPerOrderMS spent in the kernel.
	SystemShare             float64 `json:"cpu_system_share"`
	OrderAloneCPUPerOrderMS float64 `json:"order_alone_cpu_ms_per_order"`
}

// Target is one of issue 11's targets next to what was measured. Met is
// informational: nothing fails on it.
type Target struct {
	ID       int    `json:"id"`
	Name     string `json:"name"`
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
}

// samples are the latencies the picture shows.
type samples struct {
	orderClosed, orderOpen, wholeClosed []Sample
	fast, receipt, slow, baseline       []Sample
}

// WriteJSON writes r as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
