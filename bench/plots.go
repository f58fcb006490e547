package main

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/flowgrad/flowgrad/optim"
)

// Plots: small PNGs, each with a caption naming the machine, the Go
// version, the kernel path and the command.

const (
	panelW  = 11 * vg.Centimeter
	panelH  = 8 * vg.Centimeter
	plotDPI = 96
)

// savePNG draws plots side by side above a caption and writes the PNG.
func savePNG(path string, plots []*plot.Plot, caption string) error {
	return saveGridPNG(path, [][]*plot.Plot{plots}, caption)
}

// saveGridPNG draws rows of plots (all rows the same length) above a
// caption and writes the PNG.
func saveGridPNG(path string, rows [][]*plot.Plot, caption string) error {
	w := panelW * vg.Length(len(rows[0]))
	capStyle := draw.TextStyle{
		Color:   color.Gray{Y: 60},
		Font:    font.From(plot.DefaultFont, 7),
		XAlign:  draw.XLeft,
		YAlign:  draw.YTop,
		Handler: plot.DefaultTextHandler,
	}
	margin := 4 * vg.Millimeter
	lines := wrapText(caption, w-2*margin, capStyle)
	lineH := capStyle.Height("Ag") * 1.15
	capH := lineH*vg.Length(len(lines)) + 2*vg.Millimeter
	h := panelH*vg.Length(len(rows)) + capH
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(plotDPI), vgimg.UseBackgroundColor(color.White))
	dc := draw.New(img)
	area := draw.Crop(dc, 0, 0, capH, 0)
	tiles := draw.Tiles{Rows: len(rows), Cols: len(rows[0]), PadX: 6 * vg.Millimeter, PadY: 6 * vg.Millimeter,
		PadTop: 2 * vg.Millimeter, PadLeft: 2 * vg.Millimeter, PadRight: 4 * vg.Millimeter}
	canvases := plot.Align(rows, tiles, area)
	for i, row := range rows {
		for j, p := range row {
			p.Draw(canvases[i][j])
		}
	}
	y := dc.Min.Y + capH - vg.Millimeter
	for _, l := range lines {
		dc.FillText(capStyle, vg.Point{X: dc.Min.X + margin, Y: y}, l)
		y -= lineH
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// wrapText breaks s into lines no wider than w in style sty.
func wrapText(s string, w vg.Length, sty draw.TextStyle) []string {
	var lines []string
	cur := ""
	for _, word := range strings.Fields(s) {
		next := word
		if cur != "" {
			next = cur + " " + word
		}
		if cur != "" && sty.Width(next) > w {
			lines = append(lines, cur)
			next = word
		}
		cur = next
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = 10
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = 8
	return p
}

func logX(p *plot.Plot) {
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = ticks125{}
}

func logY(p *plot.Plot) {
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = ticks125{}
}

// ticks125 marks a log axis at 1, 2 and 5 times powers of ten, labelled,
// with unlabelled minor ticks between.
type ticks125 struct{}

func (ticks125) Ticks(lo, hi float64) []plot.Tick {
	if lo <= 0 || hi <= 0 || hi < lo {
		return nil
	}
	wide := hi/lo > 2000 // more than about three decades: label powers of ten only
	var out []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		base := math.Pow(10, e)
		for m := 1; m < 10; m++ {
			v := float64(m) * base
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || (!wide && (m == 2 || m == 5)) {
				t.Label = tickLabel(v)
			}
			out = append(out, t)
		}
	}
	return out
}

// tickLabel formats v compactly: 500, 2000, 20k, 1M.
func tickLabel(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case v >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// addLine adds a line with points, styled by index i, to p.
func addLine(p *plot.Plot, i int, name string, xys plotter.XYs) error {
	if len(xys) == 0 {
		return nil
	}
	l, s, err := plotter.NewLinePoints(xys)
	if err != nil {
		return err
	}
	l.Color = plotutil.Color(i)
	l.Dashes = plotutil.Dashes(i / 7)
	s.Color = plotutil.Color(i)
	s.Shape = plotutil.Shape(i)
	s.Radius = vg.Points(2.2)
	p.Add(l, s)
	if name != "" {
		p.Legend.Add(name, l, s)
	}
	return nil
}

// addHLine draws a thin grey horizontal reference line at y from x0 to x1.
func addHLine(p *plot.Plot, y, x0, x1 float64, name string) error {
	l, err := plotter.NewLine(plotter.XYs{{X: x0, Y: y}, {X: x1, Y: y}})
	if err != nil {
		return err
	}
	l.Color = color.Gray{Y: 140}
	l.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
	p.Add(l)
	if name != "" {
		p.Legend.Add(name, l)
	}
	return nil
}

// plotGemm draws section 1: the speedup of one matrix×matrix product over
// B vector×matrix products, and the GFLOP/s of both, against B.
func plotGemm(dir string, rs []gemmResult, caption string) error {
	sp := newPlot("B vector×matrix ÷ one matrix×matrix (784×256)", "B (rows)", "speedup (×)")
	gf := newPlot("GFLOP/s of the one (B×784)·(784×256) product", "B (rows) — lines as on the left", "GFLOP/s")
	logX(sp)
	logX(gf)
	logY(gf)
	gf.Legend.Left = true
	type key struct {
		path    string
		threads int
	}
	var keys []key
	byKey := map[key][]gemmResult{}
	for _, r := range rs {
		if r.Unavailable != "" {
			continue
		}
		k := key{r.Path, r.Threads}
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], r)
	}
	minB, maxB := math.Inf(1), math.Inf(-1)
	for i, k := range keys {
		var s, g, gv plotter.XYs
		for _, r := range byKey[k] {
			b := float64(r.Batch)
			minB, maxB = math.Min(minB, b), math.Max(maxB, b)
			s = append(s, plotter.XY{X: b, Y: r.Speedup()})
			g = append(g, plotter.XY{X: b, Y: r.flops() / r.MatrixSec / 1e9})
			gv = append(gv, plotter.XY{X: b, Y: r.flops() / r.VectorsSec / 1e9})
		}
		name := fmt.Sprintf("%s, %d thr", k.path, k.threads)
		if err := addLine(sp, i, name, s); err != nil {
			return err
		}
		if err := addLine(gf, i, "", g); err != nil {
			return err
		}
		_ = gv
	}
	if len(keys) == 0 {
		return nil
	}
	for _, y := range []float64{2, 10} {
		if err := addHLine(sp, y, minB, maxB, ""); err != nil {
			return err
		}
	}
	sp.Y.Min = 0
	sp.Y.Max = math.Max(sp.Y.Max, 10.5)
	return savePNG(filepath.Join(dir, "gemm_speedup.png"), []*plot.Plot{sp, gf}, caption+" — dashed: the tutorial's 2× and 10×")
}

// plotThroughput draws section 2 (and Gorgonia's points): examples/s
// against B.
func plotThroughput(dir string, tp []tpResult, gorg *gorgReport, caption string) error {
	p := newPlot("Training throughput, MLP 784-256-256-10 on MNIST", "B (batch size)", "training examples / s")
	logX(p)
	logY(p)
	byThreads := map[int]plotter.XYs{}
	var ths []int
	for _, r := range tp {
		if _, ok := byThreads[r.Threads]; !ok {
			ths = append(ths, r.Threads)
		}
		byThreads[r.Threads] = append(byThreads[r.Threads], plotter.XY{X: float64(r.Batch), Y: r.ExamplesPerSecond()})
	}
	i := 0
	for _, th := range ths {
		if err := addLine(p, i, "flowgrad, "+threads(th), byThreads[th]); err != nil {
			return err
		}
		i++
	}
	if gorg != nil {
		g := map[int]plotter.XYs{}
		var gths []int
		for _, r := range gorg.Results {
			if _, ok := g[r.Threads]; !ok {
				gths = append(gths, r.Threads)
			}
			g[r.Threads] = append(g[r.Threads], plotter.XY{X: float64(r.Batch), Y: r.ExamplesPerS})
		}
		for _, th := range gths {
			if err := addLine(p, i, "Gorgonia v0.9.18, "+threads(th), g[th]); err != nil {
				return err
			}
			i++
		}
	}
	if i == 0 {
		return nil
	}
	p.Y.Max *= 4 // room for the legend above the lines
	return savePNG(filepath.Join(dir, "throughput.png"), []*plot.Plot{p}, caption)
}

// convPlotName is the PNG file of one form/schedule group.
func convPlotName(group string) string {
	return "conv_" + strings.ReplaceAll(group, "/", "_") + ".png"
}

// plotConvergence draws, for one form/schedule group, test accuracy
// against epochs and against training wall time, one line per B.
func plotConvergence(dir, group string, curves []*convRun, initial convPoint, n int, caption string) error {
	pe := newPlot("Test accuracy vs examples — "+group, "epochs (examples / 60 000)", "test accuracy")
	pt := newPlot("Test accuracy vs training time — "+group, "seconds of training (steps × median step time)", "test accuracy")
	curves = slices.Clone(curves)
	slices.SortFunc(curves, func(a, b *convRun) int { return a.Spec.Batch - b.Spec.Batch })
	maxE, maxT := 0.0, 0.0
	for i, r := range curves {
		xe := plotter.XYs{{X: 0, Y: initial.TestAcc}}
		xt := plotter.XYs{{X: 0, Y: initial.TestAcc}}
		for _, q := range r.Points {
			xe = append(xe, plotter.XY{X: float64(q.Examples) / float64(n), Y: q.TestAcc})
			xt = append(xt, plotter.XY{X: q.Sec, Y: q.TestAcc})
			maxE, maxT = math.Max(maxE, float64(q.Examples)/float64(n)), math.Max(maxT, q.Sec)
		}
		name := fmt.Sprintf("B=%d ε=%.3g%s", r.Spec.Batch, r.Spec.Rate, divergedNote(r))
		if err := addLine(pe, i, name, xe); err != nil {
			return err
		}
		if err := addLine(pt, i, name, xt); err != nil {
			return err
		}
	}
	for _, p := range []*plot.Plot{pe, pt} {
		p.Y.Min, p.Y.Max = 0.9, 1.0
		p.Legend.Top = false
		p.Legend.Left = false
		p.Legend.YOffs = vg.Points(4)
	}
	for _, y := range []float64{0.97, 0.98} {
		if err := addHLine(pe, y, 0, maxE, ""); err != nil {
			return err
		}
		if err := addHLine(pt, y, 0, maxT, ""); err != nil {
			return err
		}
	}
	pe.X.Min, pt.X.Min = 0, 0
	return savePNG(filepath.Join(dir, convPlotName(group)), []*plot.Plot{pe, pt}, caption+" — dashed: 97% and 98%")
}

// plotTargets draws the training wall time each tuned curve needed to reach
// 97 % and 98 % test accuracy against B: one row of panels per target, one
// column per schedule, one line per momentum form.
func plotTargets(dir string, curves []*convRun, caption string) error {
	var scheds []string
	var forms []optim.MomentumForm
	for _, r := range curves {
		if !slices.Contains(scheds, r.Spec.Schedule) {
			scheds = append(scheds, r.Spec.Schedule)
		}
		if !slices.Contains(forms, r.Spec.Form) {
			forms = append(forms, r.Spec.Form)
		}
	}
	var rows [][]*plot.Plot
	for _, tg := range []float64{0.97, 0.98} {
		if _, ok := soonest(curves, tg); !ok {
			continue // no curve reached tg: an empty log-scale panel cannot be drawn
		}
		var row []*plot.Plot
		for _, sc := range scheds {
			p := newPlot(fmt.Sprintf("Seconds to %g%% test accuracy, %s schedule", tg*100, sc), "B (batch size)", "seconds (steps × median step time)")
			logX(p)
			minB, maxB := math.Inf(1), math.Inf(-1)
			for i, f := range forms {
				var xys plotter.XYs
				for _, r := range curves {
					minB, maxB = math.Min(minB, float64(r.Spec.Batch)), math.Max(maxB, float64(r.Spec.Batch))
					if r.Spec.Schedule != sc || r.Spec.Form != f {
						continue
					}
					if q, ok := firstReach(r.Points, tg); ok {
						xys = append(xys, plotter.XY{X: float64(r.Spec.Batch), Y: q.Sec})
					}
				}
				slices.SortFunc(xys, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
				if err := addLine(p, i, f.String(), xys); err != nil {
					return err
				}
			}
			p.X.Min, p.X.Max = minB/1.2, maxB*1.2
			p.Y.Min = 0
			p.Y.Max *= 1.4 // room for the legend
			if math.IsInf(p.Y.Max, 0) {
				p.Y.Max = 1 // no form reached tg with this schedule
			}
			row = append(row, p)
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil
	}
	return saveGridPNG(filepath.Join(dir, "time_to_target.png"), rows, caption+" — a missing point: the run did not reach the target within its budget")
}
