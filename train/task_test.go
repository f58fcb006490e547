package train

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/tensor"
)

// wave returns n examples of y = (sin(2x₀) + x₁², x₀ − x₁) + noise·N(0, 1)
// with x uniform in [−1, 1]²: a regression table with two outputs.
func wave(t testing.TB, rng *rand.Rand, n int, noise float64) *data.Dataset {
	t.Helper()
	x, y := tensor.New[float32](n, 2), tensor.New[float32](n, 2)
	for i := range n {
		a, b := 2*rng.Float64()-1, 2*rng.Float64()-1
		x.Set(i, 0, float32(a))
		x.Set(i, 1, float32(b))
		y.Set(i, 0, float32(math.Sin(2*a)+b*b+noise*rng.NormFloat64()))
		y.Set(i, 1, float32(a-b+noise*rng.NormFloat64()))
	}
	ds, err := data.NewRegressionTable(x, y)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// regressionRun trains an MLP 2-32-32-2 in precision T on a regression table
// with the standard loss and returns the per-epoch results.
func regressionRun[T tensor.Float](t *testing.T, epochs int) []EpochResult {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, 12))
	trainSet, testSet := wave(t, rng, 800, 0.05), wave(t, rng, 400, 0.05)
	model := layers.MLP[T](rng, 2, 32, 32, 2)
	opt, err := optim.NewSGD(model.Params(), optim.Must(optim.Constant(0.02)), optim.WithMomentum(optim.HeavyBall, 0.9))
	if err != nil {
		t.Fatal(err)
	}
	batches, err := data.NewBatcher(trainSet, 20, rng)
	if err != nil {
		t.Fatal(err)
	}
	loss := LossFor[T](trainSet.Kind())
	eval, err := NewEvaluator(testSet, 100, loss)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), NewTrainer(model, opt, loss), batches, eval, Config{Epochs: epochs})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// The one loop trains regression in float32 and float64, and reports loss,
// RMSE and R² that agree with each other.
func TestRunRegression(t *testing.T) {
	for name, res := range map[string][]EpochResult{
		"float32": regressionRun[float32](t, 30),
		"float64": regressionRun[float64](t, 30),
	} {
		first, last := res[0].Eval, res[len(res)-1].Eval
		if last.Kind != data.Regression || !math.IsNaN(last.Accuracy) || last.N != 400 {
			t.Fatalf("%s: metrics %+v", name, last)
		}
		// The loss is the mean squared error over all outputs: RMSE².
		if math.Abs(last.Loss-last.RMSE*last.RMSE) > 1e-5*last.Loss {
			t.Errorf("%s: loss %g but RMSE² %g", name, last.Loss, last.RMSE*last.RMSE)
		}
		if !(last.R2 > 0.97 && last.R2 > first.R2 && last.RMSE < first.RMSE) {
			t.Errorf("%s: R² %.4f → %.4f, RMSE %.4f → %.4f: want R² > 0.97 and both improving", name, first.R2, last.R2, first.RMSE, last.RMSE)
		}
	}
}

// R² and RMSE match their definitions computed directly from predictions.
func TestRegressionMetricsByDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	ds := wave(t, rng, 37, 0.3)
	model := layers.MLP[float64](rng, 2, 5, 2)
	eval, err := NewEvaluator(ds, 10, SquaredError[float64]) // 4 batches, the last of 7
	if err != nil {
		t.Fatal(err)
	}
	got := eval.Evaluate(model)

	tape := autograd.NewTape[float64]()
	pred := model.Forward(autograd.InputFloat32(tape, tensor.FromSlice(ds.Len(), 2, append([]float32(nil), ds.Values()...)))).Data()
	var r2, se float64
	for j := range 2 {
		var mean, res, tot float64
		for i := range ds.Len() {
			mean += float64(ds.Target(i)[j]) / float64(ds.Len())
		}
		for i := range ds.Len() {
			y := float64(ds.Target(i)[j])
			res += (pred.At(i, j) - y) * (pred.At(i, j) - y)
			tot += (y - mean) * (y - mean)
		}
		r2 += (1 - res/tot) / 2
		se += res
	}
	rmse := math.Sqrt(se / float64(2*ds.Len()))
	if math.Abs(got.R2-r2) > 1e-12 || math.Abs(got.RMSE-rmse) > 1e-12 || math.Abs(got.Loss-rmse*rmse) > 1e-12 {
		t.Fatalf("Evaluate: R² %v RMSE %v loss %v; by definition R² %v RMSE %v loss %v", got.R2, got.RMSE, got.Loss, r2, rmse, rmse*rmse)
	}
}

// Classification in float64 through the same loop.
func TestRunClassificationFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	trainSet, testSet := blobs(t, rng, 600), blobs(t, rng, 200)
	model := layers.MLP[float64](rng, 12, 16, 3)
	opt, _ := optim.NewSGD(model.Params(), optim.Must(optim.Constant(0.05)), optim.WithMomentum(optim.HeavyBall, 0.9))
	batches, _ := data.NewBatcher(trainSet, 32, rng)
	eval, _ := NewEvaluator(testSet, 1000, CrossEntropy[float64])
	res, err := Run(context.Background(), NewTrainer(model, opt, CrossEntropy), batches, eval, Config{Epochs: 8})
	if err != nil {
		t.Fatal(err)
	}
	if last := res[len(res)-1].Eval; last.Accuracy < 0.95 || !math.IsNaN(last.R2) {
		t.Fatalf("float64 classification: %+v", last)
	}
}

// A user's loss trains too: the mean of d² + d⁴ for residuals d, written
// with autograd ops.
func TestCustomLoss(t *testing.T) {
	quartic := func(out *autograd.Value[float32], b data.Batch) *autograd.Value[float32] {
		d2 := autograd.Square(autograd.Sub(out, autograd.InputFloat32(out.Tape(), b.Targets)))
		return autograd.Mean(autograd.Add(d2, autograd.Square(d2)))
	}
	rng := rand.New(rand.NewPCG(5, 5))
	trainSet := wave(t, rng, 400, 0)
	model := layers.MLP[float32](rng, 2, 16, 2)
	opt, _ := optim.NewSGD(model.Params(), optim.Must(optim.Constant(0.01)), optim.WithMomentum(optim.HeavyBall, 0.9))
	batches, _ := data.NewBatcher(trainSet, 16, rng)
	eval, _ := NewEvaluator(trainSet, 400, Loss[float32](quartic))
	res, err := Run(context.Background(), NewTrainer(model, opt, quartic), batches, eval, Config{Epochs: 10})
	if err != nil {
		t.Fatal(err)
	}
	if first, last := res[0], res[len(res)-1]; !(last.TrainLoss < first.TrainLoss/2) || last.Eval.R2 < 0.8 {
		t.Fatalf("custom loss: training loss %g → %g, R² %g", first.TrainLoss, last.TrainLoss, last.Eval.R2)
	}
}

// The BeforeUpdate hooks run between Backward and the update, in order,
// with the step's gradients, and an error leaves the parameters unchanged.
func TestBeforeUpdate(t *testing.T) {
	tr, batches, _, _ := setup(t, 0.05, 32)
	w := tr.model.Params()[0]
	var order []int
	var gradSum float64
	tr.BeforeUpdate = []func() error{
		func() error { order = append(order, 1); return nil },
		func() error {
			order = append(order, 2)
			for _, g := range w.Grad().Data() {
				gradSum += math.Abs(float64(g))
			}
			return nil
		},
	}
	before := w.Data().Clone()
	if _, err := tr.Step(batches.Take()); err != nil {
		t.Fatal(err)
	}
	if len(order) != 2 || order[0] != 1 || gradSum == 0 || tr.Steps() != 1 {
		t.Fatalf("hooks ran %v with gradient sum %g, steps %d", order, gradSum, tr.Steps())
	}
	// Zeroing the gradient in a hook makes the update a no-op (plain
	// momentum buffer aside): the hook sees and controls what the
	// optimizer uses.
	stop := errors.New("stop here")
	tr.BeforeUpdate = []func() error{func() error { return stop }}
	now := w.Data().Clone()
	if _, err := tr.Step(batches.Take()); !errors.Is(err, stop) {
		t.Fatalf("err = %v, want the hook's", err)
	}
	for i, v := range w.Data().Data() {
		if v != now.Data()[i] {
			t.Fatal("a failed hook let the update through")
		}
	}
	if tr.Steps() != 1 || equalData(before.Data(), now.Data()) {
		t.Fatal("the first step did not update, or the failed one counted")
	}
}

func equalData(a, b []float32) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// OnEpoch returning ErrStop ends Run after that epoch without error.
func TestErrStop(t *testing.T) {
	tr, batches, eval, _ := setup(t, 0.05, 32)
	res, err := Run(context.Background(), tr, batches, eval, Config{Epochs: 10, OnEpoch: func(r EpochResult) error {
		if r.Epoch == 3 {
			return ErrStop
		}
		return nil
	}})
	if err != nil || len(res) != 3 {
		t.Fatalf("%d epochs, err %v; want 3 and nil", len(res), err)
	}
}

// A float64 step on float32 data allocates nothing once warm, regression
// targets included.
func TestWarmFloat64RegressionStepAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items; counted in the non-race run")
	}
	rng := rand.New(rand.NewPCG(2, 2))
	ds := wave(t, rng, 100, 0.1)
	model := layers.MLP[float64](rng, 2, 8, 2)
	opt, _ := optim.NewSGD(model.Params(), optim.Must(optim.Constant(0.01)))
	batches, _ := data.NewBatcher(ds, 10, rng)
	tr := NewTrainer(model, opt, SquaredError)
	tr.Step(batches.Take())
	if a := testing.AllocsPerRun(20, func() { tr.Step(batches.Take()) }); a != 0 {
		t.Fatalf("warm float64 regression step allocates %v times, want 0", a)
	}
}

// The losses refuse a batch of the other task with a clear message.
func TestLossKindMismatchPanics(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	reg := wave(t, rng, 10, 0)
	b, _ := data.NewBatcher(reg, 5, nil)
	batch := b.Take()
	tape := autograd.NewTape[float32]()
	out := tape.Input(tensor.New[float32](5, 2))
	defer func() {
		if r, _ := recover().(string); r == "" || r[:len("train: CrossEntropy")] != "train: CrossEntropy" {
			t.Fatalf("panic %q, want train: CrossEntropy's message", r)
		}
	}()
	CrossEntropy(out, batch)
}

// The Evaluator runs the model in evaluation mode: with dropout in the
// model, its metrics are those of the network without dropout, the same
// at every call.
func TestEvaluatorTurnsDropoutOff(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	ds := wave(t, rng, 50, 0.1)
	plain := layers.MLP[float32](rng, 2, 16, 2)
	withDropout := layers.NewSequential[float32](plain.Layers[0], layers.NewDropout[float32](rng, 0.5), plain.Layers[1])
	eval, _ := NewEvaluator(ds, 50, SquaredError[float32])
	a, b, c := eval.Evaluate(withDropout), eval.Evaluate(withDropout), eval.Evaluate(plain)
	same := func(x, y Metrics) bool { return x.Loss == y.Loss && x.RMSE == y.RMSE && x.R2 == y.R2 && x.N == y.N }
	if !same(a, b) || !same(a, c) {
		t.Fatalf("evaluations with dropout %+v, %+v; without %+v: want all equal", a, b, c)
	}
}
