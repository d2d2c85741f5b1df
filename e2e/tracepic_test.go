package e2e

import (
	"flag"
	"fmt"
	"image/color"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/orderbus/orderbus/pkg/telemetry/oteltest"
)

// tracePNG, when set, is where TestOneTracePerOrder draws the order's
// trace as a waterfall (the README's docs/trace.png):
//
//	go test -run TestOneTracePerOrder ./e2e/ -args -trace-png=$PWD/docs/trace.png
var tracePNG = flag.String("trace-png", "", "write the trace of TestOneTracePerOrder's order as a PNG waterfall to this file")

// serviceColors give each service its colour in the waterfall.
var serviceColors = map[string]color.Color{
	"order":     color.RGBA{R: 31, G: 119, B: 180, A: 255},
	"inventory": color.RGBA{R: 44, G: 160, B: 44, A: 255},
	"email":     color.RGBA{R: 255, G: 127, B: 14, A: 255},
	"sms":       color.RGBA{R: 148, G: 103, B: 189, A: 255},
	"gdpr":      color.RGBA{R: 214, G: 39, B: 40, A: 255},
}

// writeTracePNG draws spans (one trace) as a waterfall, in tree order:
// each span below its parent (one dot of indent per level), one row per
// span, bars on a time axis from the root's start. The statements inside
// a SQL batch are left out, to keep the picture readable.
func writeTracePNG(t *testing.T, path string, spans []oteltest.Span) {
	t.Helper()
	rows := treeOrder(spans)
	if len(rows) == 0 {
		t.Fatal("no spans to draw")
	}
	t0 := rows[0].span.Start
	for _, r := range rows {
		if r.span.Start.Before(t0) {
			t0 = r.span.Start
		}
	}
	p := plot.New()
	p.Title.Text = "One order, one trace: POST /v1/orders through every service"
	p.X.Label.Text = "milliseconds since the request arrived"
	labels := make([]string, len(rows))
	for i, r := range rows {
		// NominalY counts from the bottom; the root goes on top.
		name := r.span.Name
		if name == "batch start" { // otelpgx's name for a pgx.Batch
			name = "SQL batch"
		}
		labels[len(rows)-1-i] = fmt.Sprintf("%s%s: %s", strings.Repeat("· ", r.depth), r.span.Service, name)
	}
	p.NominalY(labels...)
	p.Add(waterfall{rows: rows, t0: t0})
	p.Y.Tick.Label.Font.Size = vg.Points(9)
	p.X.Min = 0
	height := vg.Length(len(rows))*vg.Points(18) + vg.Points(90)
	img := vgimg.NewWith(vgimg.UseWH(vg.Points(900), height), vgimg.UseDPI(110))
	p.Draw(draw.New(img))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	t.Logf("trace picture: %s (%d spans)", path, len(rows))
}

type row struct {
	span  oteltest.Span
	depth int
}

// treeOrder returns spans depth first from the roots, children by start,
// leaving out the children of database spans.
func treeOrder(spans []oteltest.Span) []row {
	ids := map[string]bool{}
	children := map[string][]oteltest.Span{}
	isDB := map[string]bool{}
	for _, s := range spans {
		ids[s.SpanID] = true
		isDB[s.SpanID] = s.Attrs["db.system.name"] != ""
	}
	for _, s := range spans {
		if isDB[s.ParentID] {
			continue // a statement of a batch
		}
		parent := s.ParentID
		if !ids[parent] {
			parent = "" // a root, or a parent not received
		}
		children[parent] = append(children[parent], s)
	}
	for _, c := range children {
		slices.SortFunc(c, func(a, b oteltest.Span) int { return a.Start.Compare(b.Start) })
	}
	var out []row
	var walk func(id string, depth int)
	walk = func(id string, depth int) {
		for _, s := range children[id] {
			out = append(out, row{span: s, depth: depth})
			walk(s.SpanID, depth+1)
		}
	}
	walk("", 0)
	return out
}

// waterfall is the plotter of the bars.
type waterfall struct {
	rows []row
	t0   time.Time
}

func (w waterfall) ms(t time.Time) float64 { return float64(t.Sub(w.t0).Microseconds()) / 1000 }

// Plot draws one bar per span; at least 1px wide so short queries show.
func (w waterfall) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	n := len(w.rows)
	for i, r := range w.rows {
		y := float64(n - 1 - i)
		x0, x1 := trX(w.ms(r.span.Start)), trX(w.ms(r.span.End))
		if x1-x0 < 1 {
			x1 = x0 + 1
		}
		y0, y1 := trY(y-0.35), trY(y+0.35)
		col, ok := serviceColors[r.span.Service]
		if !ok {
			col = color.Gray{Y: 128}
		}
		c.FillPolygon(col, c.ClipPolygonXY([]vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}))
	}
}

// DataRange spans the trace's time and the rows.
func (w waterfall) DataRange() (xmin, xmax, ymin, ymax float64) {
	for _, r := range w.rows {
		xmax = max(xmax, w.ms(r.span.End))
	}
	return 0, xmax, -0.5, float64(len(w.rows)) - 0.5
}
