package bench

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// series is one named set of latency samples in the picture.
type series struct {
	name    string
	samples []Sample
	color   color.Color
}

var (
	blue   = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	orange = color.RGBA{R: 255, G: 127, B: 14, A: 255}
	green  = color.RGBA{R: 44, G: 160, B: 44, A: 255}
	red    = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	purple = color.RGBA{R: 148, G: 103, B: 189, A: 255}
	brown  = color.RGBA{R: 140, G: 86, B: 75, A: 255}
	grey   = color.RGBA{R: 127, G: 127, B: 127, A: 255}
)

// WritePNG draws the picture: accept and order → receipt latency over
// time under the whole system's open loop (top), and the distribution of
// every run's latencies (bottom), as a PNG of 1600×1100 pixels.
func (r *Result) WritePNG(w io.Writer) error {
	s := r.samples
	fastName := fmt.Sprintf("whole system %.0f/s, fast SMTP", r.Latency.Load.Target)
	slowName := fmt.Sprintf("whole system %.0f/s, SMTP +%.0f ms", r.SlowSMTP.Load.Target, r.SlowSMTP.DelayMS)
	receiptName := fmt.Sprintf("order → receipt, %.0f/s", r.Latency.Load.Target)
	overTime := scatterPlot("Accept latency (POST /v1/orders) over time", []series{
		{fastName, s.fast, blue}, {slowName, s.slow, red},
	})
	receiptTime := scatterPlot("Order → receipt in the mail catcher over time", []series{
		{receiptName, s.receipt, green},
	})
	accept := distributionPlot("Accept latency distribution", []series{
		{fmt.Sprintf("order alone, %d clients", r.OrderAlone.Closed.Clients), s.orderClosed, purple},
		{fmt.Sprintf("order alone, %.0f/s", r.OrderAlone.Open.Target), s.orderOpen, brown},
		{fmt.Sprintf("whole system, %d clients", r.Whole.Load.Clients), s.wholeClosed, grey},
		{fastName, s.fast, blue},
		{slowName, s.slow, red},
		{fmt.Sprintf("synchronous baseline %.0f/s, SMTP +%.0f ms", r.SlowSMTP.Baseline.Target, r.SlowSMTP.DelayMS), s.baseline, orange},
	})
	receipt := distributionPlot("Order → receipt distribution", []series{{receiptName, s.receipt, green}})

	const width, height = 16 * vg.Inch, 11 * vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(100))
	dc := draw.New(img)
	title := fmt.Sprintf("orderbus bench %s — %d CPUs, PostgreSQL %s (fsync on), NATS sync_interval: always",
		r.Started.Format("2006-01-02 15:04"), r.Host.CPUs, r.Host.PostgreSQL)
	drawTitle(dc, title)
	tiles := draw.Tiles{Rows: 2, Cols: 2, PadX: vg.Inch / 3, PadY: vg.Inch / 3,
		PadTop: vg.Inch * 3 / 4, PadBottom: vg.Inch / 6, PadLeft: vg.Inch / 6, PadRight: vg.Inch / 4}
	plots := [][]*plot.Plot{{overTime, receiptTime}, {accept, receipt}}
	canvases := plot.Align(plots, tiles, dc)
	for i := range plots {
		for j := range plots[i] {
			plots[i][j].Draw(canvases[i][j])
		}
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w); err != nil {
		return fmt.Errorf("write png: %w", err)
	}
	return nil
}

func drawTitle(dc draw.Canvas, title string) {
	sty := plot.New().Title.TextStyle
	sty.Font.Size = vg.Points(16)
	sty.XAlign = draw.XCenter
	dc.FillText(sty, vg.Point{X: dc.Center().X, Y: dc.Max.Y - vg.Points(30)}, title)
}

// newPlot returns a plot with a title, a log-scaled latency axis in
// milliseconds and a legend at the top left.
func newPlot(title string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(14)
	p.Y.Label.Text = "milliseconds (log scale)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = oneTwoFive{}
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.TextStyle.Font.Size = vg.Points(11)
	p.Add(plotter.NewGrid())
	return p
}

// floor keeps a latency positive for the log scale.
func floor(d time.Duration) float64 { return math.Max(ms(d), 0.01) }

func scatterPlot(title string, all []series) *plot.Plot {
	p := newPlot(title)
	p.X.Label.Text = "seconds since the load began"
	for _, s := range all {
		if len(s.samples) == 0 {
			continue
		}
		xys := make(plotter.XYs, len(s.samples))
		for i, x := range s.samples {
			xys[i] = plotter.XY{X: x.At.Seconds(), Y: floor(x.Latency)}
		}
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			continue
		}
		sc.GlyphStyle.Color = s.color
		sc.GlyphStyle.Radius = vg.Points(1.2)
		sc.GlyphStyle.Shape = draw.CircleGlyph{}
		p.Add(sc)
		p.Legend.Add(fmt.Sprintf("%s (%d)", s.name, len(s.samples)), sc)
	}
	headroom(p, len(all))
	return p
}

// distributionPlot draws each series' latency at each percentile, on a
// scale that widens the tail: 0, 50, 90, 99, 99.9 percent are equally
// spaced apart from the first.
func distributionPlot(title string, all []series) *plot.Plot {
	p := newPlot(title)
	p.X.Label.Text = "percentile"
	p.X.Scale = ninesScale{}
	p.X.Tick.Marker = ninesTicks{}
	p.X.Min, p.X.Max = 0, 99.99
	for _, s := range all {
		if len(s.samples) == 0 {
			continue
		}
		sorted := Latencies(s.samples)
		slices.Sort(sorted)
		var xys plotter.XYs
		for _, pc := range percentileGrid(len(sorted)) {
			xys = append(xys, plotter.XY{X: pc, Y: floor(Percentile(sorted, math.Max(pc, 0.0001)))})
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			continue
		}
		l.LineStyle.Color = s.color
		l.LineStyle.Width = vg.Points(2)
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (%d)", s.name, len(s.samples)), l)
	}
	headroom(p, len(all))
	return p
}

// headroom raises the top of p's log-scaled Y axis so that a legend of
// rows entries at the top does not cover the data.
func headroom(p *plot.Plot, rows int) {
	if p.Y.Min <= 0 || p.Y.Max <= p.Y.Min {
		return
	}
	share := math.Min(0.6, 0.055*float64(rows)) // of the plot's height
	decades := math.Log10(p.Y.Max / p.Y.Min)
	p.Y.Max *= math.Pow(10, decades*share/(1-share))
}

// percentileGrid returns the percentiles to draw for n samples: dense
// where the scale is wide, up to the last one n samples resolve.
func percentileGrid(n int) []float64 {
	top := 100 * (1 - 1/float64(n))
	var out []float64
	for nines := 0.0; ; nines += 0.02 {
		pc := 100 * (1 - math.Pow(10, -nines))
		if pc > top || pc > 99.99 {
			break
		}
		out = append(out, pc)
	}
	return append(out, math.Min(top, 99.99))
}

// ninesScale places a percentile p at -log10(1 - p/100): 90 at 1, 99 at
// 2, 99.9 at 3.
type ninesScale struct{}

func (ninesScale) Normalize(min, max, x float64) float64 {
	f := func(p float64) float64 { return -math.Log10(1 - math.Min(p, 99.99)/100) }
	return (f(x) - f(min)) / (f(max) - f(min))
}

// ninesTicks marks 0, 50, 90, 99, 99.9 and 99.99.
type ninesTicks struct{}

func (ninesTicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	for _, p := range []float64{0, 50, 90, 99, 99.9, 99.99} {
		if p >= min && p <= max {
			out = append(out, plot.Tick{Value: p, Label: fmt.Sprint(p)})
		}
	}
	return out
}

// oneTwoFive marks 1, 2, 5, 10, 20, 50... (and their tenths) on a log
// axis, labelled, with unlabelled minor ticks in between.
type oneTwoFive struct{}

func (oneTwoFive) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	if min <= 0 || max <= min {
		return out
	}
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		base := math.Pow(10, e)
		for m := 1; m <= 9; m++ {
			v := float64(m) * base
			if v < min || v > max {
				continue
			}
			label := ""
			if m == 1 || m == 2 || m == 5 {
				label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			out = append(out, plot.Tick{Value: v, Label: label})
		}
	}
	return out
}
