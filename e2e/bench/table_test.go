package bench

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// figures returns a Result as a run that meets some targets and misses
// others would leave.
func figures() *Result {
	r := &Result{
		Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Host: Host{CPUs: 2, PostgreSQL: "15"},
		Pgbench: []PgbenchResult{{Clients: 1, Seconds: 10, TPS: 2500}, {Clients: 8, Seconds: 10, TPS: 5000}},
		OrderAlone: OrderAlone{
			Closed:         LoadFigures{Mode: "closed", Clients: 8, Rate: 3500, Accept: Summary{Count: 100, P50MS: 2, P99MS: 5}},
			Open:           LoadFigures{Mode: "open", Target: 1000, Rate: 999, Accept: Summary{Count: 100, P50MS: 1, P99MS: 12}},
			ShareOfPgbench: 0.7,
		},
		Whole: Whole{Load: LoadFigures{Clients: 8, Sent: 5000, Rate: 600}, ProcessedRate: 450, Reconciled: true, Rejections: 500},
		Latency: Latency{Load: LoadFigures{Target: 200, Rate: 200, Accept: Summary{Count: 100, P99MS: 8}},
			Receipt: Summary{Count: 100, P50MS: 14, P99MS: 70}},
		SlowSMTP: SlowSMTP{DelayMS: 500, P99Ratio: 1.05, Load: LoadFigures{Target: 200},
			Baseline: LoadFigures{Target: 20, Accept: Summary{Count: 10, P50MS: 2600}}},
		Footprint: []Footprint{
			{Process: "order", RSSIdleMB: 12, RSSPeakMB: 40, CPUPerOrderMS: 1.5, OrderAloneCPUPerOrderMS: 0.4},
			{Process: "email", RSSIdleMB: 31, RSSPeakMB: 101, CPUPerOrderMS: 2},
			{Process: "postgres", RSSIdleMB: 200, RSSPeakMB: 300, CPUPerOrderMS: 3},
		},
	}
	for i := range 50 {
		at := time.Duration(i) * 20 * time.Millisecond
		r.samples.fast = append(r.samples.fast, Sample{At: at, Latency: time.Duration(1+i%7) * time.Millisecond})
		r.samples.slow = append(r.samples.slow, Sample{At: at, Latency: time.Duration(1+i%5) * time.Millisecond})
		r.samples.receipt = append(r.samples.receipt, Sample{At: at, Latency: time.Duration(5+i%20) * time.Millisecond})
		r.samples.baseline = append(r.samples.baseline, Sample{At: at, Latency: 2600 * time.Millisecond})
	}
	r.Targets = targets(r)
	return r
}

func TestTargetsJudgeEachFigure(t *testing.T) {
	t.Parallel()
	met := map[int]bool{}
	for _, x := range figures().Targets {
		met[x.ID] = x.Met
	}
	want := map[int]bool{
		tShare: true, tOpenP99: false, tProcessed: false, tAcceptP99: true, tReceiptP50: true,
		tReceiptP99: false, tSlowRatio: true, tBaseline: true,
		tIdle: false, tPeak: false, // email: 31 MB idle, 101 MB peak; postgres is no service
	}
	for id, w := range want {
		if met[id] != w {
			t.Errorf("target %d met = %v, want %v", id, met[id], w)
		}
	}
	if empty := targets(&Result{}); len(empty) != len(want) {
		t.Errorf("%d targets for an empty result, want %d", len(empty), len(want))
	} else {
		for _, x := range empty {
			if x.Met {
				t.Errorf("target %q met by a run that measured nothing", x.Name)
			}
		}
	}
}

func TestPrintTable(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := figures().PrintTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"what", "measured", "target", "met",
		"8 client(s), 10 s", "5,000 tps",
		"share of pgbench, same clients", "70.0 %", "≥ 60 %",
		"every effect delivered", "450 orders/s", "≥ 500 orders/s",
		"all effects once, 0 findings",
		"order → receipt in the catcher p50", "14.0 ms",
		"1.05×", "≤ 1.10×", "p50 2600 ms",
		"31.0 MB (email)",
		"Footprint per process", "postgres", "6.500", // total CPU ms per order
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// The columns line up: the yes or no of every row with a target
	// starts where the header's "met" does.
	lines := strings.Split(out, "\n")
	col := -1
	for _, l := range lines {
		if strings.HasPrefix(l, "what") {
			col = strings.Index(l, "met")
		}
	}
	if col < 0 {
		t.Fatalf("no header line:\n%s", out)
	}
	rows := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " ")
		for _, word := range []string{" yes", " no"} {
			if strings.HasSuffix(l, word) {
				rows++
				if at := len([]rune(l)) - len(word) + 1; at != col {
					t.Errorf("%q at column %d, want %d: %q", word, at, col, l)
				}
			}
		}
	}
	if rows != 10 {
		t.Errorf("%d rows with a target, want 10:\n%s", rows, out)
	}
}

func TestWriteFiles(t *testing.T) {
	t.Parallel()
	r := figures()
	dir, err := r.WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	assertFiles(t, dir)
	if _, err := r.WriteFiles(strings.TrimSuffix(dir, "/"+r.Started.Format("20060102-150405"))); err == nil {
		t.Error("a second WriteFiles into the same folder: no error")
	}
}

// assertFiles checks that dir holds a decodable result.json, a PNG of
// the picture's size and the table.
func assertFiles(t *testing.T, dir string) *Result {
	t.Helper()
	raw := readFile(t, dir, ResultFile)
	var got Result
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("result.json: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(readFile(t, dir, PictureFile)))
	if err != nil {
		t.Fatalf("latency.png: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1600 || b.Dy() != 1100 {
		t.Errorf("latency.png is %v, want 1600×1100", b)
	}
	if table := string(readFile(t, dir, TableFile)); !strings.Contains(table, "Footprint per process") {
		t.Errorf("table.txt:\n%s", table)
	}
	return &got
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestThousands(t *testing.T) {
	t.Parallel()
	for v, want := range map[float64]string{0: "0", 999.4: "999", 1000: "1,000", 3659.6: "3,660", 1234567: "1,234,567", -4200: "-4,200"} {
		if got := thousands(v); got != want {
			t.Errorf("thousands(%v) = %q, want %q", v, got, want)
		}
	}
}

// An open loop capped below the rate asked meets no target set at that
// rate, however fast it answered, and the table says it was capped.
func TestCappedRunMeetsNoRateTarget(t *testing.T) {
	t.Parallel()
	r := figures()
	r.Latency.Load.Asked, r.Latency.Load.Target = 200, 90
	r.Latency.Receipt = Summary{Count: 100, P50MS: 1, P99MS: 2}
	r.Targets = targets(r)
	for _, x := range r.Targets {
		if (x.ID == tAcceptP99 || x.ID == tReceiptP50 || x.ID == tReceiptP99) && x.Met {
			t.Errorf("target %q met by a capped run", x.Name)
		}
	}
	var b bytes.Buffer
	if err := r.PrintTable(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "open loop 90 orders/s, 0 s, fast SMTP (200 asked") {
		t.Errorf("the table does not say the run was capped:\n%s", b.String())
	}
}
