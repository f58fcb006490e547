// Command plots draws the figures of docs/tutorial.md from the tutorial
// package's experiments (the same code the testable examples run), as
// small PNGs in docs/tutorial/img:
//
//	go run ./docs/tutorial/cmd/plots [-out docs/tutorial/img]
//
// It takes about a minute; the MNIST stability sweep and the path-sum
// timings take most of it. Timings vary with the machine; everything else
// is deterministic.
package main

import (
	"flag"
	"fmt"
	"image/color"
	"log"
	"math"
	"path/filepath"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/docs/tutorial"
	"github.com/flowgrad/flowgrad/optim"
)

var out = flag.String("out", "docs/tutorial/img", "folder for the PNGs")

func main() {
	flag.Parse()
	for _, f := range []struct {
		name string
		draw func() (*plot.Plot, error)
	}{
		{"loss.png", lossCurves},
		{"sgd.png", sgdVariants},
		{"momentum.png", momentum},
		{"schedule.png", schedules},
		{"stability.png", stability},
		{"paths.png", paths},
	} {
		start := time.Now()
		p, err := f.draw()
		if err != nil {
			log.Fatalf("%s: %v", f.name, err)
		}
		file := filepath.Join(*out, f.name)
		if err := p.Save(5*vg.Inch, 3.2*vg.Inch, file); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s (%.1fs)\n", file, time.Since(start).Seconds())
	}
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	p.X.Tick.Marker = plainTicks{}
	p.Y.Tick.Marker = plainTicks{}
	return p
}

// plainTicks are gonum's default ticks labelled with %g (2500, not
// 2500.00).
type plainTicks struct{}

func (plainTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = fmt.Sprintf("%.6g", ts[i].Value)
		}
	}
	return ts
}

func line(p *plot.Plot, i int, name string, xys plotter.XYs) {
	l, err := plotter.NewLine(xys)
	if err != nil {
		log.Fatal(err)
	}
	l.Color = plotutil.Color(i)
	l.Width = vg.Points(1.5)
	l.Dashes = plotutil.Dashes(i)
	p.Add(l)
	p.Legend.Add(name, l)
}

func logY(p *plot.Plot) {
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = powTicks{}
}

func logX(p *plot.Plot) {
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = powTicks{}
}

// powTicks labels the powers of ten in range (every other one if there are
// more than 8), with unlabelled ticks at 2…9 times each.
type powTicks struct{}

func (powTicks) Ticks(lo, hi float64) []plot.Tick {
	a, b := int(math.Floor(math.Log10(lo))), int(math.Ceil(math.Log10(hi)))
	every := 1
	if b-a > 8 {
		every = 2
	}
	var ts []plot.Tick
	for k := a; k <= b; k++ {
		x := math.Pow10(k)
		if x >= lo && x <= hi {
			label := ""
			if k%every == 0 {
				label = fmt.Sprintf("%g", x)
			}
			ts = append(ts, plot.Tick{Value: x, Label: label})
		}
		for m := 2; m <= 9; m++ {
			if y := float64(m) * x; y >= lo && y <= hi {
				ts = append(ts, plot.Tick{Value: y})
			}
		}
	}
	return ts
}

func lossCurves() (*plot.Plot, error) {
	tr, te, err := tutorial.LossCurves(500, 1000, 64, 30)
	if err != nil {
		return nil, err
	}
	p := newPlot("MLP 784-64-10 on 500 MNIST images", "epoch", "mean cross-entropy")
	a, b := make(plotter.XYs, len(tr)), make(plotter.XYs, len(te))
	for i := range tr {
		a[i] = plotter.XY{X: float64(i + 1), Y: tr[i]}
		b[i] = plotter.XY{X: float64(i + 1), Y: te[i]}
	}
	line(p, 0, "training loss (500 images)", a)
	line(p, 1, "held-out loss (1000 test images)", b)
	p.Y.Min, p.Y.Max = 0, 1.1 // room for the legend above the curves
	return p, nil
}

func sgdVariants() (*plot.Plot, error) {
	p := newPlot("softmax regression, 1000 MNIST images, 5 passes", "training examples processed", "held-out loss")
	for i, c := range []struct {
		name string
		B    int
		rate float64
	}{{"batch GD (B=1000, ε=0.5)", 1000, 0.5}, {"online SGD (B=1, ε=0.02)", 1, 0.02}, {"minibatch SGD (B=20, ε=0.2)", 20, 0.2}} {
		curve, _, err := tutorial.SGDCurve(1000, 1000, c.B, c.rate, 5, 250)
		if err != nil {
			return nil, err
		}
		xys := make(plotter.XYs, len(curve))
		for j, pt := range curve {
			xys[j] = plotter.XY{X: pt.X, Y: pt.Y}
		}
		line(p, i, c.name, xys)
	}
	p.Y.Min = 0
	return p, nil
}

func momentum() (*plot.Plot, error) {
	p := newPlot("quadratic, λ = 100…1, each form at ½ its bound", "step k", "loss (log scale)")
	logY(p)
	for i, c := range []struct {
		form optim.MomentumForm
		m    float64
	}{{optim.None, 0}, {optim.EMA, 0.9}, {optim.HeavyBall, 0.9}, {optim.Nesterov, 0.9}} {
		ls := tutorial.MomentumRun([]float64{100, 30, 10, 3, 1}, c.form, c.m, 0.5, 300)
		var xys plotter.XYs
		for k, l := range ls {
			if l > 1e-12 {
				xys = append(xys, plotter.XY{X: float64(k), Y: l})
			}
		}
		line(p, i, fmt.Sprintf("%v %.1f", c.form, c.m), xys)
	}
	return p, nil
}

func schedules() (*plot.Plot, error) {
	p := newPlot("online SGD on noisy linear regression", "step k", "‖θ − θ*‖²")
	logX(p)
	logY(p)
	var at []int
	for k := 10.0; k <= 100000; k *= math.Pow(10, 0.1) {
		if n := int(math.Round(k)); len(at) == 0 || n > at[len(at)-1] {
			at = append(at, n)
		}
	}
	for i, c := range []struct {
		name  string
		sched optim.Schedule
	}{{"constant ε = 0.05", optim.Must(optim.Constant(0.05))}, {"1/k: 0.05·100/(100+k)", optim.Must(optim.InverseTime(0.05, 100))}} {
		pts := tutorial.NoisyRegression(c.sched, 1, 100000, at)
		xys := make(plotter.XYs, len(pts))
		for j, pt := range pts {
			xys[j] = plotter.XY{X: pt.X, Y: pt.Y}
		}
		line(p, i, c.name, xys)
	}
	return p, nil
}

func stability() (*plot.Plot, error) {
	trainSet, _, err := data.LoadMNIST("")
	if err != nil {
		return nil, err
	}
	model, _, err := tutorial.DemoRun(trainSet, 100, 1)
	if err != nil {
		return nil, err
	}
	e, err := tutorial.DemoLambdaMax(trainSet, model, 100, 5, 1, 100)
	if err != nil {
		return nil, err
	}
	p := newPlot(fmt.Sprintf("MNIST MLP 784-256-256-10, λmax ≈ %.3g at init, 300 steps", e.Value), "rate / predicted bound (log scale)", "loss of the last 50 steps")
	logX(p)
	fractions := []float64{0.1, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 4, 6, 8}
	top := 0.0
	for i, c := range []struct {
		form optim.MomentumForm
		m    float64
	}{{optim.HeavyBall, 0.9}, {optim.None, 0}} {
		bound := optim.MaxStableRate(c.form, c.m, e.Value)
		pts, err := tutorial.StabilitySweep(trainSet, 100, 1, c.form, c.m, bound, fractions, 300)
		if err != nil {
			return nil, err
		}
		var xys, div plotter.XYs
		for _, pt := range pts {
			if pt.DivergedAt > 0 {
				div = append(div, plotter.XY{X: pt.Fraction, Y: 2.6})
				continue
			}
			xys = append(xys, plotter.XY{X: pt.Fraction, Y: pt.Loss})
			top = math.Max(top, pt.Loss)
		}
		line(p, i, fmt.Sprintf("%v %g (bound %.3g)", c.form, c.m, bound), xys)
		if len(div) > 0 {
			s, err := plotter.NewScatter(div)
			if err != nil {
				return nil, err
			}
			s.Color = plotutil.Color(i)
			s.Shape = plotutil.Shape(i)
			p.Add(s)
			p.Legend.Add(fmt.Sprintf("%v: NaN/Inf", c.form), s)
		}
	}
	v, err := plotter.NewLine(plotter.XYs{{X: 1, Y: 0}, {X: 1, Y: 2.7}})
	if err != nil {
		return nil, err
	}
	v.Color = color.Gray{Y: 100}
	v.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(v)
	p.Y.Min, p.Y.Max = 0, 2.7
	p.Legend.Top, p.Legend.Left = true, true
	return p, nil
}

func paths() (*plot.Plot, error) {
	p := newPlot("∂L/∂x₀ on the 2ⁿ-paths graph", "n", "time (seconds, log scale)")
	logY(p)
	var bp, ps plotter.XYs
	for n := 2; n <= 24; n += 2 {
		reps := 200
		start := time.Now()
		tape := autograd.NewTape[float64]()
		for range reps {
			tape.Reset()
			_, _, L := tutorial.Chain(tape, 0.7, -0.4, n)
			tape.Backward(L)
		}
		bp = append(bp, plotter.XY{X: float64(n), Y: time.Since(start).Seconds() / float64(reps)})
		reps = max(1, 1<<20>>n)
		start = time.Now()
		for range reps {
			tutorial.PathSum(0.7, -0.4, n)
		}
		ps = append(ps, plotter.XY{X: float64(n), Y: time.Since(start).Seconds() / float64(reps)})
	}
	line(p, 0, "backpropagation (O(n))", bp)
	line(p, 1, "sum over paths (O(2ⁿ))", ps)
	p.Legend.Top, p.Legend.Left = true, true
	return p, nil
}
