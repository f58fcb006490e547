// Package tutorial is the tutorial "Introduction to Gradient-Based
// Learning" (docs/tutorial.md) as runnable flowgrad code: one experiment
// per idea of the text, each returning its numbers so that the testable
// examples (example_test.go) print them and cmd/plots draws them.
//
// The experiments compute in float64 on small subsets of MNIST so that
// they are fast and their printed numbers are the same on every machine
// and every float32 kernel path. Full-size runs in float32 are quoted in
// docs/tutorial.md.
package tutorial

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/tensor"
	"github.com/flowgrad/flowgrad/train"
)

var (
	mnistOnce           sync.Once
	mnistTrain, mnistTe *data.Dataset
	mnistErr            error
)

// MNIST returns the first nTrain training and first nTest test images of
// real MNIST.
func MNIST(nTrain, nTest int) (train, test *data.Dataset, err error) {
	mnistOnce.Do(func() { mnistTrain, mnistTe, mnistErr = data.LoadMNIST("") })
	if mnistErr != nil {
		return nil, nil, mnistErr
	}
	return mnistTrain.Head(nTrain), mnistTe.Head(nTest), nil
}

// lossOn returns a function of a float64 model's mean softmax
// cross-entropy over ds: the training loss C(θ) = (1/n)·Σ L(f_θ, z_i) on a
// training set, an estimate of the generalization loss on held-out
// examples.
func lossOn(ds *data.Dataset) func(train.Model[float64]) float64 {
	e, err := train.NewEvaluator(ds, ds.Len(), train.CrossEntropy[float64])
	if err != nil {
		panic(err) // ds is never empty here
	}
	return func(m train.Model[float64]) float64 { return e.Evaluate(m).Loss }
}

// newRun returns a float64 trainer of model with the rate schedule and
// options of optim.NewSGD, and the minibatches of B of ds in order (the
// last one smaller); it panics on invalid options.
func newRun(model train.Model[float64], ds *data.Dataset, B int, rate optim.Schedule, opts ...optim.Option) (*train.Trainer[float64], *data.Batcher) {
	opt, err := optim.NewSGD(model.Params(), rate, opts...)
	if err != nil {
		panic(err)
	}
	batches, err := data.NewBatcher(ds, B, nil)
	if err != nil {
		panic(err)
	}
	return train.NewTrainer(model, opt, train.CrossEntropy), batches
}

// LossCurves trains an MLP 784-hidden-10 (heavy ball 0.9, rate 0.05, B =
// 20) in float64 on the first nTrain MNIST images for epochs epochs and
// returns, after each epoch, the training loss on those images and the
// held-out loss on the first nTest test images: the tutorial's training
// loss and its estimate of the generalization loss. With few training
// images the first keeps falling while the second bottoms out and rises
// (overfitting).
func LossCurves(nTrain, nTest, hidden, epochs int) (trainLoss, heldOut []float64, err error) {
	tr, te, err := MNIST(nTrain, nTest)
	if err != nil {
		return nil, nil, err
	}
	model := layers.MLP[float64](rand.New(rand.NewPCG(1, 2)), 784, hidden, 10)
	t, batches := newRun(model, tr, 20, optim.Must(optim.Constant(0.05)), optim.WithMomentum(optim.HeavyBall, 0.9))
	trainLossOf, heldOutOf := lossOn(tr), lossOn(te)
	_, err = train.Run(context.Background(), t, batches, nil, train.Config{Epochs: epochs, OnEpoch: func(train.EpochResult) error {
		trainLoss = append(trainLoss, trainLossOf(model))
		heldOut = append(heldOut, heldOutOf(model))
		return nil
	}})
	return trainLoss, heldOut, err
}

// Point is one measurement of a curve.
type Point struct{ X, Y float64 }

// SGDCurve trains softmax regression (a 784-10 linear model) on the first
// nTrain MNIST images with plain SGD at a constant rate, minibatch size B
// (1: online SGD; nTrain: batch gradient descent), for epochs passes, and
// returns the held-out loss on the first nTest test images against the
// number of training examples processed, measured every `every` examples
// (and at the end), plus the number of updates made.
func SGDCurve(nTrain, nTest, B int, rate float64, epochs, every int) (curve []Point, updates int, err error) {
	tr, te, err := MNIST(nTrain, nTest)
	if err != nil {
		return nil, 0, err
	}
	model := layers.MLP[float64](rand.New(rand.NewPCG(3, 4)), 784, 10)
	t, batches := newRun(model, tr, B, optim.Must(optim.Constant(rate)))
	heldOut := lossOn(te)
	curve = append(curve, Point{0, heldOut(model)})
	seen, next := 0, every
	_, err = train.Run(context.Background(), t, batches, nil, train.Config{Epochs: epochs, OnBatch: func(_ float64, index, _ int) {
		updates++
		s := seen + min((index+1)*B, tr.Len())
		if index == batches.BatchesPerEpoch()-1 {
			seen += tr.Len()
		}
		if s >= next {
			curve = append(curve, Point{float64(s), heldOut(model)})
			for next <= s {
				next += every
			}
		}
	}})
	if err != nil {
		return nil, 0, err
	}
	if last := curve[len(curve)-1]; last.X != float64(seen) {
		curve = append(curve, Point{float64(seen), heldOut(model)})
	}
	return curve, updates, nil
}

// Quadratic is the loss L(θ) = ½·Σ λ_i θ_i² (an axis-aligned quadratic
// with Hessian diag(λ)) as a loss of a 1×n parameter.
type Quadratic struct {
	Lambdas []float64
	Theta   *autograd.Value[float64]
	half    *tensor.Dense[float64]
}

// NewQuadratic returns the quadratic with Hessian diag(lambdas) and θ at
// (1, 1, …, 1).
func NewQuadratic(lambdas []float64) *Quadratic {
	n := len(lambdas)
	th := tensor.New[float64](1, n)
	th.Fill(1)
	half := tensor.New[float64](1, n)
	for i, l := range lambdas {
		half.Data()[i] = l / 2
	}
	return &Quadratic{Lambdas: lambdas, Theta: autograd.NewParam("theta", th), half: half}
}

// Loss records L(θ) on t.
func (q *Quadratic) Loss(t *autograd.Tape[float64]) *autograd.Value[float64] {
	th := t.Param(q.Theta)
	return autograd.Sum(autograd.Mul(autograd.Mul(th, th), t.Input(q.half)))
}

// Run takes steps of opt on q (whose parameter opt must update) and
// returns L before each step and after the last: steps+1 values. It stops
// early, returning what it has, once L exceeds 1e12 or is NaN.
func (q *Quadratic) Run(opt *optim.SGD[float64], steps int) []float64 {
	t := autograd.NewTape[float64]()
	var ls []float64
	for k := 0; k <= steps; k++ {
		t.Reset()
		l := q.Loss(t)
		ls = append(ls, l.Scalar())
		if k == steps || !(l.Scalar() < 1e12) {
			break
		}
		t.Backward(l)
		opt.Step()
	}
	return ls
}

// MomentumRun minimises the quadratic with Hessian diag(lambdas) from
// θ = (1, …, 1) with form and momentum m at rate `fraction` × the form's
// stability bound, and returns the loss curve over steps steps.
func MomentumRun(lambdas []float64, form optim.MomentumForm, m, fraction float64, steps int) []float64 {
	q := NewQuadratic(lambdas)
	rate := fraction * optim.MaxStableRate(form, m, slicesMax(lambdas))
	opt, err := optim.NewSGD([]*autograd.Value[float64]{q.Theta}, optim.Must(optim.Constant(rate)), optim.WithMomentum(form, m))
	if err != nil {
		panic(err)
	}
	return q.Run(opt, steps)
}

func slicesMax(xs []float64) float64 {
	m := math.Inf(-1)
	for _, x := range xs {
		m = math.Max(m, x)
	}
	return m
}

// NoisyRegression runs online SGD (B = 1) on the linear regression
// y = θ*·x + noise (x ~ N(0, I) in 5 dimensions, noise ~ N(0, σ²), loss
// ½(θ·x − y)²) with the given schedule, from θ = 0, for steps steps, and
// returns ‖θ − θ*‖² after each step k in at (in increasing order). A
// constant rate stops improving at a noise floor proportional to ε·σ²; the
// 1/k schedule keeps approaching θ*.
func NoisyRegression(sched optim.Schedule, sigma float64, steps int, at []int) []Point {
	rng := rand.New(rand.NewPCG(5, 6))
	star := []float64{1, -2, 0.5, 3, -1}
	theta := autograd.NewParam("theta", tensor.New[float64](5, 1))
	opt, err := optim.NewSGD([]*autograd.Value[float64]{theta}, sched)
	if err != nil {
		panic(err)
	}
	x, y := tensor.New[float64](1, 5), tensor.New[float64](1, 1)
	t := autograd.NewTape[float64]()
	var out []Point
	for k := 1; k <= steps; k++ {
		yv := sigma * rng.NormFloat64()
		for i := range star {
			x.Data()[i] = rng.NormFloat64()
			yv += star[i] * x.Data()[i]
		}
		y.Data()[0] = yv
		t.Reset()
		r := autograd.Sub(autograd.MatMul(t.Input(x), theta), t.Input(y))
		t.Backward(autograd.Mul(autograd.Square(r), t.Const(0.5)))
		opt.Step()
		if len(out) < len(at) && k == at[len(out)] {
			var d float64
			for i, s := range star {
				e := theta.Data().Data()[i] - s
				d += e * e
			}
			out = append(out, Point{float64(k), d})
		}
	}
	return out
}

// Chain builds the tutorial's graph x_t = sin(x_{t−1} + y_{t−1}),
// y_t = x_{t−1}·y_{t−1}, t = 1…n, L = x_n + y_n on tape from x0, y0, and
// returns the input nodes and L.
func Chain(tape *autograd.Tape[float64], x0, y0 float64, n int) (x, y, L *autograd.Value[float64]) {
	x, y = tape.Scalar(x0), tape.Scalar(y0)
	xv, yv := x, y
	for range n {
		x, y = autograd.Sin(autograd.Add(x, y)), autograd.Mul(x, y)
	}
	return xv, yv, autograd.Add(x, y)
}

// PathSum computes ∂L/∂x0 on the same graph by the chain rule written
// out as a sum over paths (no sharing of sub-paths): 2^n paths from x0 to
// L. It returns the derivative and the number of recursive calls made.
func PathSum(x0, y0 float64, n int) (dx float64, calls int) {
	xs, ys := []float64{x0}, []float64{y0}
	for i := range n {
		xs, ys = append(xs, math.Sin(xs[i]+ys[i])), append(ys, xs[i]*ys[i])
	}
	var rec func(t int, isX bool) float64
	rec = func(t int, isX bool) float64 {
		calls++
		if t == n {
			return 1
		}
		c := math.Cos(xs[t] + ys[t]) // ∂x_{t+1}/∂x_t = ∂x_{t+1}/∂y_t
		viaX, viaY := rec(t+1, true), rec(t+1, false)
		if isX {
			return c*viaX + ys[t]*viaY // ∂y_{t+1}/∂x_t = y_t
		}
		return c*viaX + xs[t]*viaY // ∂y_{t+1}/∂y_t = x_t
	}
	return rec(0, true), calls
}
