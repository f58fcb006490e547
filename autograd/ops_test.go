package autograd

import (
	"math/rand/v2"
	"testing"

	"github.com/flowgrad/flowgrad/tensor"
)

func randMatrix(rng *rand.Rand, r, c int, lo, hi float64) *tensor.Dense[float64] {
	m := tensor.New[float64](r, c)
	for i := range m.Data() {
		m.Data()[i] = lo + (hi-lo)*rng.Float64()
	}
	return m
}

// shapes are the (rows, cols) the gradient checks run on: B = 1, square and
// not.
var shapes = [][2]int{{1, 1}, {1, 5}, {3, 1}, {4, 7}, {6, 6}}

// checkOp runs the gradient check on loss = Σ R ⊙ op(params), with R a fixed
// random matrix, so every element of the op's gradient is weighted
// differently (a transposed or mis-indexed gradient cannot pass).
func checkOp(t *testing.T, name string, rng *rand.Rand, op func(ps []*Value[float64]) *Value[float64], params ...*tensor.Dense[float64]) {
	t.Helper()
	ps := make([]*Value[float64], len(params))
	for i, p := range params {
		ps[i] = NewParam(name+"."+string(rune('a'+i)), p)
	}
	var weights *tensor.Dense[float64]
	loss := func(tp *Tape[float64]) *Value[float64] {
		lifted := make([]*Value[float64], len(ps))
		for i, p := range ps {
			lifted[i] = tp.Param(p)
		}
		out := op(lifted)
		if weights == nil {
			weights = randMatrix(rng, out.Shape().Rows, out.Shape().Cols, -1, 1)
		}
		return Sum(Mul(out, tp.Input(weights)))
	}
	res, err := GradCheck(loss, ps, nil)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for _, r := range res {
		if r.MaxRel > 1e-5 && r.MaxAbs > 1e-6 {
			t.Fatalf("%s: %+v", name, r)
		}
	}
}

func TestGradCheckEveryOp(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	unaries := map[string]struct {
		f      func(*Value[float64]) *Value[float64]
		lo, hi float64
	}{
		"Neg": {Neg[float64], -2, 2}, "Square": {Square[float64], -2, 2},
		"Pow3": {func(a *Value[float64]) *Value[float64] { return Pow(a, 3) }, -2, 2},
		"Pow-0.5": {func(a *Value[float64]) *Value[float64] { return Pow(a, -0.5) }, 0.5, 2},
		"Sin": {Sin[float64], -3, 3}, "Cos": {Cos[float64], -3, 3}, "Exp": {Exp[float64], -2, 2},
		"Log": {Log[float64], 0.2, 3}, "Tanh": {Tanh[float64], -2, 2}, "Sigmoid": {Sigmoid[float64], -3, 3},
		"ReLU": {ReLU[float64], -2, 2}, "Sum": {Sum[float64], -2, 2}, "Mean": {Mean[float64], -2, 2},
	}
	for _, s := range shapes {
		for name, u := range unaries {
			checkOp(t, name, rng, func(ps []*Value[float64]) *Value[float64] {
				return u.f(ps[0])
			}, randMatrix(rng, s[0], s[1], u.lo, u.hi))
		}
		binaries := map[string]func(a, b *Value[float64]) *Value[float64]{
			"Add": Add[float64], "Sub": Sub[float64], "Mul": Mul[float64], "Div": Div[float64],
		}
		for name, f := range binaries {
			checkOp(t, name, rng, func(ps []*Value[float64]) *Value[float64] { return f(ps[0], ps[1]) },
				randMatrix(rng, s[0], s[1], 0.5, 2), randMatrix(rng, s[0], s[1], 0.5, 2))
			checkOp(t, name+"/row", rng, func(ps []*Value[float64]) *Value[float64] { return f(ps[0], ps[1]) },
				randMatrix(rng, s[0], s[1], 0.5, 2), randMatrix(rng, 1, s[1], 0.5, 2))
		}
		checkOp(t, "MSE", rng, func(ps []*Value[float64]) *Value[float64] { return MSE(ps[0], ps[1]) },
			randMatrix(rng, s[0], s[1], -1, 1), randMatrix(rng, s[0], s[1], -1, 1))
		for _, n := range []int{1, 3, 10} {
			checkOp(t, "MatMul", rng, func(ps []*Value[float64]) *Value[float64] { return MatMul(ps[0], ps[1]) },
				randMatrix(rng, s[0], s[1], -1, 1), randMatrix(rng, s[1], n, -1, 1))
		}
		labels := make([]int, s[0])
		for i := range labels {
			labels[i] = rng.IntN(s[1])
		}
		checkOp(t, "SoftmaxCrossEntropy", rng, func(ps []*Value[float64]) *Value[float64] { return SoftmaxCrossEntropy(ps[0], labels) },
			randMatrix(rng, s[0], s[1], -3, 3))
	}
}

// An operation whose operands are all parameters has no tape to record on.
func TestParamOnlyOpPanics(t *testing.T) {
	p := NewParam("p", tensor.New[float64](2, 2))
	expectPanic(t, "no operand is on a tape", func() { Square(p) })
}
