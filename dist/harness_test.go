package dist

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/tensor"
	"github.com/flowgrad/flowgrad/train"
)

// The test problem: 103 examples of 12 features in 3 classes (so B = 32
// leaves a last batch of 7, which splits unevenly), an MLP 12-16-3,
// heavy-ball SGD.
const (
	testN, testFeatures, testClasses = 103, 12, 3
	testRate, testMomentum           = 0.1, 0.9
)

// testData returns the training set: random pixels, the class given by
// which third of the features has the largest sum (learnable, not
// trivial).
func testData(t testing.TB) *data.Dataset { return testDataN(t, testN) }

// testDataN is testData with n examples.
func testDataN(t testing.TB, n int) *data.Dataset {
	rng := rand.New(rand.NewPCG(7, 7))
	pix := make([]uint8, n*testFeatures)
	labels := make([]uint8, n)
	for i := range n {
		row := pix[i*testFeatures : (i+1)*testFeatures]
		var sums [testClasses]int
		for j := range row {
			row[j] = uint8(rng.IntN(256))
			sums[j*testClasses/testFeatures] += int(row[j])
		}
		for c := range sums {
			if sums[c] > sums[labels[i]] {
				labels[i] = uint8(c)
			}
		}
	}
	ds, err := data.NewDataset(pix, labels, testFeatures, testClasses)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// testRegression returns a regression table of n rows: 5 features in
// [−1, 1], 2 targets that are smooth functions of them plus noise.
func testRegression(t testing.TB, n int) *data.Dataset {
	rng := rand.New(rand.NewPCG(8, 8))
	x, y := tensor.New[float32](n, 5), tensor.New[float32](n, 2)
	for i := range n {
		row := x.Row(i)
		for j := range row {
			row[j] = float32(2*rng.Float64() - 1)
		}
		y.Set(i, 0, row[0]*row[1]+0.5*row[2]+float32(0.05*rng.NormFloat64()))
		y.Set(i, 1, float32(math.Sin(float64(row[3])))-row[4]+float32(0.05*rng.NormFloat64()))
	}
	ds, err := data.NewRegressionTable(x, y)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// newRun returns a Trainer and a Batcher of global size b for ds (an MLP
// with a hidden layer of 16, the dataset kind's loss), with weights and
// data order drawn from seed.
func newRun[T tensor.Float](t testing.TB, ds *data.Dataset, b int, seed uint64) (*train.Trainer[T], *data.Batcher) {
	return newRunWith(t, ds, b, seed, func(params []*autograd.Value[T]) (optim.Optimizer[T], error) {
		return optim.NewSGD(params, optim.Must(optim.Constant(testRate)), optim.WithMomentum(optim.HeavyBall, testMomentum))
	})
}

// newRunWith is newRun with the optimiser newOpt makes.
func newRunWith[T tensor.Float](t testing.TB, ds *data.Dataset, b int, seed uint64, newOpt func([]*autograd.Value[T]) (optim.Optimizer[T], error)) (*train.Trainer[T], *data.Batcher) {
	rng := rand.New(rand.NewPCG(seed, 1))
	model := layers.MLP[T](rng, ds.Features(), 16, ds.Outputs())
	opt, err := newOpt(model.Params())
	if err != nil {
		t.Fatal(err)
	}
	batches, err := data.NewBatcher(ds, b, rng)
	if err != nil {
		t.Fatal(err)
	}
	return train.NewTrainer(model, opt, train.LossFor[T](ds.Kind())), batches
}

// flatten returns copies of the parameters' values, concatenated.
func flatten[T tensor.Float](params []*autograd.Value[T]) []T {
	var out []T
	for _, p := range params {
		out = append(out, p.Data().Data()...)
	}
	return out
}

// maxAbsDiff returns max |a−b| and max |a|.
func maxAbsDiff[T tensor.Float](a, b []T) (diff, size float64) {
	if len(a) != len(b) {
		panic("lengths differ")
	}
	for i := range a {
		diff = max(diff, math.Abs(float64(a[i])-float64(b[i])))
		size = max(size, math.Abs(float64(a[i])))
	}
	return diff, size
}

// unitRoundoff is u of T: 2⁻²⁴ for float32, 2⁻⁵³ for float64.
func unitRoundoff[T tensor.Float]() float64 {
	var x T
	if _, ok := any(x).(float32); ok {
		return 0x1p-24
	}
	return 0x1p-53
}

// checkClose fails t unless got (a data-parallel run's parameters after
// steps steps at global batch size b) is within rounding of want (one
// process on the same global minibatches), start being the parameters
// before training.
//
// The bound: the two runs do the same arithmetic except for the order of
// the sums in each gradient entry (the shards' partial sums, then their
// weighted sum across ranks, versus one sum over the global batch). Each
// entry is a sum of at most b terms, so its rounding error is at most about
// b·u times the sum of their magnitudes (u the unit roundoff); carried
// through steps updates, a difference of at most steps·b·u relative to the
// parameters' scale. We assert |Δθ|∞ ≤ steps·b·u·max(1, |θ|∞) — and, so the
// test can fail for a wrong scaling, that this bound is below 1 % of how
// far training moved the parameters.
func checkClose[T tensor.Float](t *testing.T, what string, got, want, start []T, steps, b int) {
	t.Helper()
	diff, size := maxAbsDiff(got, want)
	moved, _ := maxAbsDiff(want, start)
	tol := float64(steps*b) * unitRoundoff[T]() * max(1, size)
	if tol > moved/100 {
		t.Fatalf("%s: the tolerance %.3g is not small against the training's movement %.3g: the test could not see a wrong gradient", what, tol, moved)
	}
	if !(diff <= tol) {
		t.Errorf("%s: parameters differ from one process on the same global minibatches by %.3g (bound %.3g; training moved them %.3g)", what, diff, tol, moved)
	} else {
		t.Logf("%s: max |Δθ| = %.3g against one process (bound %.3g; training moved θ by %.3g)", what, diff, tol, moved)
	}
}

// reference trains the test problem on one process: the result the ranks
// must reproduce. It returns the parameters before and after.
func reference[T tensor.Float](t *testing.T, ds *data.Dataset, b int, seed uint64, epochs int) (start, end []T) {
	tr, batches := newRun[T](t, ds, b, seed)
	start = flatten(tr.Model().Params())
	if _, err := train.Run(t.Context(), tr, batches, nil, train.Config{Epochs: epochs}); err != nil {
		t.Fatal(err)
	}
	return start, flatten(tr.Model().Params())
}
