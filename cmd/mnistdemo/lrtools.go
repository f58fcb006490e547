package main

// The learning-rate tools: -lr auto (a rate from the Hessian's largest
// eigenvalue) and -find-lr (the learning-rate range test with a PNG plot).
//
// -lr auto averages the loss over -lr-batches minibatches of size -batch
// (drawn with their own seed, so the training run is the one -lr <rate>
// would give), estimates λmax of its Hessian at the initial weights by power
// iteration on finite-difference Hessian-vector products
// (package curvature), and trains at -lr-fraction times the stability
// bound of the chosen momentum form, optim.MaxStableRate.
//
// -find-lr runs train.RangeTest (rates growing exponentially from 1e-4 to
// 10 over 100 minibatches, with the chosen momentum form), prints the curve
// and its suggestion (a tenth of the rate at the smoothed loss's minimum),
// writes the plot to -find-lr-png, and exits without training: run again
// with -lr set to the suggestion (or another rate read off the plot).

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/flowgrad/flowgrad/curvature"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/internal/cli"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/train"
)

// lrFlags are the flags of the learning-rate tools.
type lrFlags struct {
	auto     bool    // -lr auto
	batches  int     // -lr-batches
	fraction float64 // -lr-fraction
	find     bool    // -find-lr
	png      string  // -find-lr-png
}

// lrValue is the -lr flag: a rate, or "auto".
type lrValue struct {
	rate *float64
	auto *bool
}

func (v lrValue) String() string {
	if v.auto == nil || v.rate == nil {
		return ""
	}
	if *v.auto {
		return "auto"
	}
	return strconv.FormatFloat(*v.rate, 'g', -1, 64)
}

func (v lrValue) Set(s string) error {
	if s == "auto" {
		*v.auto = true
		return nil
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return errors.New("want a number or auto")
	}
	*v.rate, *v.auto = x, false
	return nil
}

// register defines -lr (default 0.1) and the tools' flags on fs.
func (l *lrFlags) register(fs *flag.FlagSet, rate *float64) {
	*rate = 0.1
	fs.Var(lrValue{rate, &l.auto}, "lr", "learning rate ε0, or auto: -lr-fraction × the stability bound from the Hessian's λmax (default 0.1)")
	fs.IntVar(&l.batches, "lr-batches", 5, "minibatches whose mean loss -lr auto measures λmax on")
	fs.Float64Var(&l.fraction, "lr-fraction", 0.1, "fraction of the stability bound that -lr auto trains at")
	fs.BoolVar(&l.find, "find-lr", false, "run the learning-rate range test, print its curve, write -find-lr-png, and exit")
	fs.StringVar(&l.png, "find-lr-png", "lr-range.png", "file for -find-lr's plot (PNG)")
}

// errLRDone ends the run with status 0 after -find-lr.
var errLRDone = errors.New("learning-rate range test done")

// lrExit maps apply's error to train1's results.
func lrExit(err error) (int, error) {
	var u cli.UsageError
	switch {
	case errors.Is(err, errLRDone):
		return 0, nil
	case errors.As(err, &u):
		return 2, err
	}
	return 1, err
}

// apply runs the tools the flags ask for on model (at its initial
// weights, which it leaves as they were) and returns the schedule to train
// with: for -lr auto, c.lr is set to the chosen rate first. It returns
// errLRDone after -find-lr.
func (l *lrFlags) apply(c *config, model *layers.Sequential[float32], ds *data.Dataset, epochSteps int, stdout io.Writer) (optim.Schedule, error) {
	if l.find {
		if err := l.rangeTest(c, model, ds, stdout); err != nil {
			return nil, err
		}
		return nil, errLRDone
	}
	if l.auto {
		if err := l.autoRate(c, model, ds, stdout); err != nil {
			return nil, err
		}
	}
	return c.scheduleFor(epochSteps)
}

// heldBatches copies n minibatches of size B from a Batcher of their own.
func heldBatches(ds *data.Dataset, size, n int, seed uint64) ([]data.Batch, error) {
	b, err := data.NewBatcher(ds, size, rand.New(rand.NewPCG(seed, 0x1a4d)))
	if err != nil {
		return nil, err
	}
	var out []data.Batch
	for len(out) < n {
		out = append(out, b.Take().Clone())
	}
	return out, nil
}

// autoRate estimates λmax and sets c.lr to l.fraction × the bound.
func (l *lrFlags) autoRate(c *config, model *layers.Sequential[float32], ds *data.Dataset, stdout io.Writer) error {
	if l.batches < 1 {
		return cli.UsageError{Msg: fmt.Sprintf("-lr-batches %d: must be at least 1", l.batches)}
	}
	if !(l.fraction > 0 && l.fraction <= 1) {
		return cli.UsageError{Msg: fmt.Sprintf("-lr-fraction %v: must be in (0, 1]", l.fraction)}
	}
	batches, err := heldBatches(ds, c.batch, l.batches, c.seed)
	if err != nil {
		return cli.UsageError{Msg: fmt.Sprintf("-batch %d: %v", c.batch, err)}
	}
	start := time.Now()
	h := curvature.New(train.MeanLoss(model, train.CrossEntropy, batches), model.Params(), nil)
	bound, e, err := curvature.MaxStableRate(h, c.opt.Form, c.opt.Momentum, rand.New(rand.NewPCG(c.seed, 0x9a3)),
		&curvature.PowerOptions{Tol: 1e-3, MaxIter: 100})
	if err != nil && !errors.Is(err, curvature.ErrNotConverged) {
		return err
	}
	fmt.Fprintf(stdout, "-lr auto: λmax ≈ %.4g (power iteration, %d Hessian-vector products on the mean loss of %d minibatches of %d, %.1fs)\n",
		e.Value, e.Iterations, l.batches, c.batch, time.Since(start).Seconds())
	if err != nil {
		fmt.Fprintf(stdout, "-lr auto: warning: %v\n", err)
	}
	if math.IsInf(bound, 1) {
		return fmt.Errorf("-lr auto: λmax ≈ %.3g ≤ 0: no curvature bound; give -lr a rate", e.Value)
	}
	c.lr = l.fraction * bound
	fmt.Fprintf(stdout, "-lr auto: stability bound for %v momentum %g: ε < %.4g; training at %g × bound = %.4g\n",
		c.opt.Form, c.opt.Momentum, bound, l.fraction, c.lr)
	return nil
}

// rangeTest runs the learning-rate range test, prints the curve and writes
// the plot.
func (l *lrFlags) rangeTest(c *config, model *layers.Sequential[float32], ds *data.Dataset, stdout io.Writer) error {
	b, err := data.NewBatcher(ds, c.batch, rand.New(rand.NewPCG(c.seed, 0xf1d)))
	if err != nil {
		return cli.UsageError{Msg: fmt.Sprintf("-batch %d: %v", c.batch, err)}
	}
	next := func() (data.Batch, bool) { return b.Take(), true }
	cfg := train.RangeTestConfig{Lo: 1e-4, Hi: 10, Steps: 100, Options: c.opt.SGDOptions()}
	start := time.Now()
	res, err := train.RangeTest(model, train.CrossEntropy, next, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "learning-rate range test: %v momentum %g, B=%d, rate %g → %g over %d steps (%.1fs); stopped: %s\n",
		c.opt.Form, c.opt.Momentum, c.batch, cfg.Lo, cfg.Hi, cfg.Steps, time.Since(start).Seconds(), res.Stop)
	fmt.Fprintf(stdout, "%10s  %10s  %10s\n", "rate", "loss", "smoothed")
	for _, p := range res.Points {
		fmt.Fprintf(stdout, "%10.4g  %10.4f  %10.4f\n", p.Rate, p.Loss, p.Smoothed)
	}
	fmt.Fprintf(stdout, "smoothed loss lowest at rate %.4g, falling fastest at %.4g; suggested rate (lowest / 10): %.4g\n",
		res.MinRate, res.SteepestRate, res.Suggested)
	if err := plotRange(res, fmt.Sprintf("range test: %v momentum %g, B=%d", c.opt.Form, c.opt.Momentum, c.batch), l.png); err != nil {
		return fmt.Errorf("-find-lr-png: %w", err)
	}
	fmt.Fprintf(stdout, "plot written to %s; train with: -lr %.3g\n", l.png, res.Suggested)
	return nil
}

// plotRange draws the range test's loss and smoothed loss against the rate
// (log scale), with the minimum and the suggestion marked, as a PNG.
func plotRange(res train.RangeResult, title, file string) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "learning rate (log scale)"
	p.Y.Label.Text = "minibatch loss"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	raw, smooth := make(plotter.XYs, len(res.Points)), make(plotter.XYs, len(res.Points))
	// The y axis ends a little above the starting loss: the blow-up at the
	// end would otherwise flatten the curve.
	top := 1.3 * res.Points[0].Smoothed
	for i, pt := range res.Points {
		raw[i] = plotter.XY{X: pt.Rate, Y: math.Min(pt.Loss, top)}
		smooth[i] = plotter.XY{X: pt.Rate, Y: math.Min(pt.Smoothed, top)}
	}
	lr, err := plotter.NewLine(raw)
	if err != nil {
		return err
	}
	lr.Width = vg.Points(0.5)
	lr.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
	ls, err := plotter.NewLine(smooth)
	if err != nil {
		return err
	}
	ls.Width = vg.Points(2)
	ls.Color = plotutil.Color(0)
	p.Add(lr, ls)
	p.Legend.Add("loss", lr)
	p.Legend.Add("smoothed", ls)
	for _, m := range []struct {
		name string
		x    float64
	}{{"lowest", res.MinRate}, {"suggested", res.Suggested}} {
		v, err := plotter.NewLine(plotter.XYs{{X: m.x, Y: 0}, {X: m.x, Y: top}})
		if err != nil {
			return err
		}
		v.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		v.Color = plotutil.Color(2)
		if m.name == "suggested" {
			v.Color = plotutil.Color(1)
		}
		p.Add(v)
		p.Legend.Add(fmt.Sprintf("%s %.3g", m.name, m.x), v)
	}
	p.Y.Min, p.Y.Max = 0, top
	p.Legend.Top, p.Legend.Left = false, true
	return p.Save(6*vg.Inch, 4*vg.Inch, file)
}
