package autograd

import (
	"math"
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
		"Pow3":    {func(a *Value[float64]) *Value[float64] { return Pow(a, 3) }, -2, 2},
		"Pow-0.5": {func(a *Value[float64]) *Value[float64] { return Pow(a, -0.5) }, 0.5, 2},
		"Sin":     {Sin[float64], -3, 3}, "Cos": {Cos[float64], -3, 3}, "Exp": {Exp[float64], -2, 2},
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

func TestGradCheckFusedLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, s := range shapes {
		for _, n := range []int{1, 5, 33} {
			x, w, b := randMatrix(rng, s[0], s[1], -1, 1), randMatrix(rng, s[1], n, -1, 1), randMatrix(rng, 1, n, -1, 1)
			checkOp(t, "Linear", rng, func(ps []*Value[float64]) *Value[float64] { return Linear(ps[0], ps[1], ps[2]) }, x, w, b)
			checkOp(t, "LinearReLU", rng, func(ps []*Value[float64]) *Value[float64] { return LinearReLU(ps[0], ps[1], ps[2]) }, x, w, b)
		}
	}
}

// The fused float32 ops (assembly kernels, parallel passes) agree with the
// composition of the primitive ops they replace, forward and backward.
func TestFusedLinearMatchesComposition(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, c := range [][3]int{{1, 7, 5}, {3, 20, 17}, {300, 64, 200}} { // the last is split across cores
		B, K, N := c[0], c[1], c[2]
		mk := func(r, c int) *tensor.Dense[float32] {
			m := tensor.New[float32](r, c)
			for i := range m.Data() {
				m.Data()[i] = float32(rng.NormFloat64())
			}
			return m
		}
		xd, wd, bd, rd := mk(B, K), mk(K, N), mk(1, N), mk(B, N)
		for _, relu := range []bool{false, true} {
			grads := func(fused bool) [][]float32 {
				w, b := NewParam("w", wd.Clone()), NewParam("b", bd.Clone())
				tape := NewTape[float32]()
				x := tape.Var(xd)
				var y *Value[float32]
				switch {
				case fused && relu:
					y = LinearReLU(x, w, b)
				case fused:
					y = Linear(x, w, b)
				case relu:
					y = ReLU(Add(MatMul(x, w), b))
				default:
					y = Add(MatMul(x, w), b)
				}
				tape.Backward(Sum(Mul(y, tape.Input(rd))))
				return [][]float32{y.Data().Data(), x.Grad().Data(), w.Grad().Data(), b.Grad().Data()}
			}
			got, want := grads(true), grads(false)
			for k, name := range []string{"y", "dx", "dW", "db"} {
				for i := range want[k] {
					if d := math.Abs(float64(got[k][i] - want[k][i])); d > 1e-4*(1+math.Abs(float64(want[k][i]))) {
						t.Fatalf("B,K,N=%v relu=%v: %s[%d] = %g, composed %g", c, relu, name, i, got[k][i], want[k][i])
					}
				}
			}
		}
	}
}
