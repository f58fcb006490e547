package autograd

import (
	"fmt"
	"hash/fnv"
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

// caseSeed derives a case's random seed from its name (FNV-1a), so that a
// case draws the same numbers however the cases are ordered or filtered,
// and a failure can quote the seed that reproduces it.
func caseSeed(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// checkOp runs, as subtest name, the gradient check on
// loss = Σ R ⊙ op(params), with R a fixed random matrix, so every element of
// the op's gradient is weighted differently (a transposed or mis-indexed
// gradient cannot pass). params draws the operands from the case's own
// generator, seeded by caseSeed(name).
func checkOp(t *testing.T, name string, op func(ps []*Value[float64]) *Value[float64], params func(rng *rand.Rand) []*tensor.Dense[float64]) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		seed := caseSeed(name)
		rng := rand.New(rand.NewPCG(seed, 0))
		data := params(rng)
		ps := make([]*Value[float64], len(data))
		for i, p := range data {
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
			t.Fatalf("%v (case seed %#x)", err, seed)
		}
		for _, r := range res {
			if r.MaxRel > 1e-5 && r.MaxAbs > 1e-6 {
				t.Fatalf("%+v (case seed %#x)", r, seed)
			}
		}
	})
}

// matrices returns a params function for checkOp drawing one matrix per
// shape {rows, cols}, uniformly from [lo, hi).
func matrices(lo, hi float64, shapes ...[2]int) func(*rand.Rand) []*tensor.Dense[float64] {
	return func(rng *rand.Rand) []*tensor.Dense[float64] {
		ms := make([]*tensor.Dense[float64], len(shapes))
		for i, s := range shapes {
			ms[i] = randMatrix(rng, s[0], s[1], lo, hi)
		}
		return ms
	}
}

// TestGradCheckEveryOp checks every primitive and composite operation on
// every shape. The cases are a slice, each with its own seed (caseSeed),
// so a failing case reproduces alone: go test -run 'TestGradCheckEveryOp/Sin/4×7'.
func TestGradCheckEveryOp(t *testing.T) {
	unaries := []struct {
		name   string
		f      func(*Value[float64]) *Value[float64]
		lo, hi float64
	}{
		{"Neg", Neg[float64], -2, 2}, {"Square", Square[float64], -2, 2},
		{"Pow3", func(a *Value[float64]) *Value[float64] { return Pow(a, 3) }, -2, 2},
		{"Pow-0.5", func(a *Value[float64]) *Value[float64] { return Pow(a, -0.5) }, 0.5, 2},
		{"Sin", Sin[float64], -3, 3}, {"Cos", Cos[float64], -3, 3}, {"Exp", Exp[float64], -2, 2},
		{"Log", Log[float64], 0.2, 3}, {"Tanh", Tanh[float64], -2, 2}, {"Sigmoid", Sigmoid[float64], -3, 3},
		{"ReLU", ReLU[float64], -2, 2}, {"Sum", Sum[float64], -2, 2}, {"Mean", Mean[float64], -2, 2},
	}
	binaries := []struct {
		name string
		f    func(a, b *Value[float64]) *Value[float64]
	}{{"Add", Add[float64]}, {"Sub", Sub[float64]}, {"Mul", Mul[float64]}, {"Div", Div[float64]}}
	for _, s := range shapes {
		at := fmt.Sprintf("/%d×%d", s[0], s[1])
		for _, u := range unaries {
			checkOp(t, u.name+at, func(ps []*Value[float64]) *Value[float64] { return u.f(ps[0]) }, matrices(u.lo, u.hi, s))
		}
		for _, b := range binaries {
			op := func(ps []*Value[float64]) *Value[float64] { return b.f(ps[0], ps[1]) }
			checkOp(t, b.name+at, op, matrices(0.5, 2, s, s))
			checkOp(t, b.name+"Row"+at, op, matrices(0.5, 2, s, [2]int{1, s[1]}))
		}
		checkOp(t, "MSE"+at, func(ps []*Value[float64]) *Value[float64] { return MSE(ps[0], ps[1]) }, matrices(-1, 1, s, s))
		for _, n := range []int{1, 3, 10} {
			checkOp(t, fmt.Sprintf("MatMul%s·%d", at, n), func(ps []*Value[float64]) *Value[float64] { return MatMul(ps[0], ps[1]) },
				matrices(-1, 1, s, [2]int{s[1], n}))
		}
		var labels []int
		checkOp(t, "SoftmaxCrossEntropy"+at, func(ps []*Value[float64]) *Value[float64] { return SoftmaxCrossEntropy(ps[0], labels) },
			func(rng *rand.Rand) []*tensor.Dense[float64] {
				labels = make([]int, s[0])
				for i := range labels {
					labels[i] = rng.IntN(s[1])
				}
				return matrices(-3, 3, s)(rng)
			})
		classWeights := make([]float64, s[1])
		for c := range classWeights {
			classWeights[c] = []float64{0.5, 3, 1.25, 2}[c%4]
		}
		checkOp(t, "WeightedSoftmaxCrossEntropy"+at, func(ps []*Value[float64]) *Value[float64] {
			return WeightedSoftmaxCrossEntropy(ps[0], labels, classWeights)
		}, func(rng *rand.Rand) []*tensor.Dense[float64] {
			labels = make([]int, s[0])
			for i := range labels {
				labels[i] = rng.IntN(s[1])
			}
			return matrices(-3, 3, s)(rng)
		})
	}
}

// A class of weight 2 counts as if each of its rows were there twice:
// the weighted loss and its gradient equal the unweighted ones of the
// batch with those rows repeated; weights of 1 are the unweighted loss.
func TestWeightedCrossEntropyCountsRowsAgain(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	z := randMatrix(rng, 5, 3, -2, 2)
	labels := []int{0, 1, 2, 1, 0}
	run := func(rows []int, loss func(v *Value[float64], labels []int) *Value[float64]) (float64, *tensor.Dense[float64]) {
		zz := tensor.New[float64](len(rows), 3)
		var ls []int
		for i, r := range rows {
			copy(zz.Row(i), z.Row(r))
			ls = append(ls, labels[r])
		}
		p := NewParam("z", zz)
		tape := NewTape[float64]()
		l := loss(tape.Param(p), ls)
		tape.Backward(l)
		return l.Scalar(), p.Grad()
	}
	weighted := func(v *Value[float64], ls []int) *Value[float64] {
		return WeightedSoftmaxCrossEntropy(v, ls, []float64{1, 2, 1})
	}
	got, g := run([]int{0, 1, 2, 3, 4}, weighted)
	want, gw := run([]int{0, 1, 1, 2, 3, 3, 4}, SoftmaxCrossEntropy[float64]) // class 1 twice
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("weighted loss %v, repeated rows %v", got, want)
	}
	// The gradient of a repeated row is the sum of its copies'.
	for j := range 3 {
		for _, c := range []struct{ row, a, b int }{{0, 0, -1}, {1, 1, 2}, {2, 3, -1}, {3, 4, 5}, {4, 6, -1}} {
			w := gw.At(c.a, j)
			if c.b >= 0 {
				w += gw.At(c.b, j)
			}
			if math.Abs(g.At(c.row, j)-w) > 1e-12 {
				t.Errorf("gradient [%d,%d] = %v, repeated rows %v", c.row, j, g.At(c.row, j), w)
			}
		}
	}
	ones, _ := run([]int{0, 1, 2, 3, 4}, func(v *Value[float64], ls []int) *Value[float64] {
		return WeightedSoftmaxCrossEntropy(v, ls, []float64{1, 1, 1})
	})
	plain, _ := run([]int{0, 1, 2, 3, 4}, SoftmaxCrossEntropy[float64])
	if ones != plain {
		t.Errorf("weights of 1: %v, unweighted %v", ones, plain)
	}
	a := NewTape[float64]().Input(z)
	expectPanic(t, "2 weights for 3 classes", func() { WeightedSoftmaxCrossEntropy(a, labels, []float64{1, 1}) })
	expectPanic(t, "weight 0 of class 1", func() { WeightedSoftmaxCrossEntropy(a, labels, []float64{1, 0, 1}) })
}

// An operation whose operands are all parameters has no tape to record on.
func TestParamOnlyOpPanics(t *testing.T) {
	p := NewParam("p", tensor.New[float64](2, 2))
	expectPanic(t, "no operand is on a tape", func() { Square(p) })
}

func TestGradCheckFusedLinear(t *testing.T) {
	for _, s := range shapes {
		for _, n := range []int{1, 5, 33} {
			operands := matrices(-1, 1, s, [2]int{s[1], n}, [2]int{1, n})
			at := fmt.Sprintf("/%d×%d·%d", s[0], s[1], n)
			checkOp(t, "Linear"+at, func(ps []*Value[float64]) *Value[float64] { return Linear(ps[0], ps[1], ps[2]) }, operands)
			checkOp(t, "LinearReLU"+at, func(ps []*Value[float64]) *Value[float64] { return LinearReLU(ps[0], ps[1], ps[2]) }, operands)
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
