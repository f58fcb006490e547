package autograd

import (
	"math"
	"testing"

	"github.com/flowgrad/flowgrad/tensor"
)

// The tutorial's example: L = sin(a² + b/a), with
// ∂L/∂a = cos(a² + b/a)·(2a − b/a²) and ∂L/∂b = cos(a² + b/a)/a.
func TestTutorialSinExample(t *testing.T) {
	for _, p := range [][2]float64{{1, 1}, {2, -3}, {-0.7, 0.25}, {0.3, 5}, {-2.5, -1.5}} {
		tape := NewTape[float64]()
		a, b := tape.Scalar(p[0]), tape.Scalar(p[1])
		L := Sin(Add(Square(a), Div(b, a)))
		tape.Backward(L)

		av, bv := p[0], p[1]
		u := av*av + bv/av
		checks := []struct {
			name      string
			got, want float64
		}{
			{"L", L.Scalar(), math.Sin(u)},
			{"∂L/∂a", a.Grad().Scalar(), math.Cos(u) * (2*av - bv/(av*av))},
			{"∂L/∂b", b.Grad().Scalar(), math.Cos(u) / av},
		}
		for _, c := range checks {
			if math.Abs(c.got-c.want) > 1e-12 {
				t.Errorf("a=%g b=%g: %s = %.17g, want %.17g", av, bv, c.name, c.got, c.want)
			}
		}
	}
}

// chain builds the tutorial's graph x_t = f(x_{t-1}, y_{t-1}),
// y_t = g(x_{t-1}, y_{t-1}), L = h(x_n, y_n) with f(x, y) = sin(x + y),
// g(x, y) = x·y and h(x, y) = x + y.
func chain(tape *Tape[float64], x0, y0 float64, n int) (x, y, L *Value[float64]) {
	x, y = tape.Scalar(x0), tape.Scalar(y0)
	x0v, y0v := x, y
	for t := 1; t <= n; t++ {
		x, y = Sin(Add(x, y)), Mul(x, y)
	}
	return x0v, y0v, Add(x, y)
}

// pathSum returns ∂L/∂(x or y at level t) by enumerating every path from
// that node to L and summing the products of the local derivatives along
// it, with no reuse of shared sub-paths: 2^(n−t) paths. It counts calls.
func pathSum(xs, ys []float64, t, n int, isX bool, calls *int) float64 {
	*calls++
	if t == n {
		return 1 // ∂h/∂x_n = ∂h/∂y_n = 1
	}
	x, y := xs[t], ys[t]
	// Local derivatives of x_{t+1} = sin(x+y) and y_{t+1} = x·y.
	dfx, dfy := math.Cos(x+y), math.Cos(x+y)
	dgx, dgy := y, x
	viaX := pathSum(xs, ys, t+1, n, true, calls)
	viaY := pathSum(xs, ys, t+1, n, false, calls)
	if isX {
		return dfx*viaX + dgx*viaY
	}
	return dfy*viaX + dgy*viaY
}

func TestBackwardLinearVersusPathEnumeration(t *testing.T) {
	const x0, y0 = 0.7, -0.4
	// Backprop visits each node once: the visit count is exactly linear in n.
	visits := func(n int) int {
		tape := NewTape[float64]()
		_, _, L := chain(tape, x0, y0, n)
		tape.Backward(L)
		if tape.Visits() != tape.Len() {
			t.Fatalf("n=%d: %d visits for %d nodes", n, tape.Visits(), tape.Len())
		}
		return tape.Visits()
	}
	v1, v2 := visits(1), visits(2)
	perStep := v2 - v1
	for _, n := range []int{3, 10, 100, 1000} {
		if got, want := visits(n), v1+(n-1)*perStep; got != want {
			t.Fatalf("n=%d: %d visits, want %d (linear: %d per step)", n, got, want, perStep)
		}
	}

	for n := 1; n <= 16; n++ {
		tape := NewTape[float64]()
		xv, yv, L := chain(tape, x0, y0, n)
		tape.Backward(L)

		xs, ys := []float64{x0}, []float64{y0}
		for i := 0; i < n; i++ {
			x, y := xs[i], ys[i]
			xs, ys = append(xs, math.Sin(x+y)), append(ys, x*y)
		}
		calls := 0
		dx := pathSum(xs, ys, 0, n, true, &calls)
		dy := pathSum(xs, ys, 0, n, false, &calls)
		if want := 2 * (1<<(n+1) - 1); calls != want {
			t.Fatalf("n=%d: path enumeration made %d calls, want 2·(2^(n+1) − 1) = %d", n, calls, want)
		}
		for _, c := range []struct {
			name      string
			got, want float64
		}{{"∂L/∂x0", xv.Grad().Scalar(), dx}, {"∂L/∂y0", yv.Grad().Scalar(), dy}} {
			if math.Abs(c.got-c.want) > 1e-12*(1+math.Abs(c.want)) {
				t.Fatalf("n=%d: backprop %s = %.17g, path sum %.17g", n, c.name, c.got, c.want)
			}
		}
	}
}

func TestMisusePanics(t *testing.T) {
	tape := NewTape[float64]()
	a := tape.Var(tensor.New[float64](2, 3))
	b := tape.Var(tensor.New[float64](3, 2))
	expectPanic(t, "autograd: Add: shapes 2×3 and 3×2 do not fit", func() { Add(a, b) })
	expectPanic(t, "autograd: MatMul: shapes 2×3 and 2×3 do not fit", func() { MatMul(a, a) })
	expectPanic(t, "autograd: Backward: loss 2×2 is not a scalar", func() { tape.Backward(MatMul(a, b)) })
	expectPanic(t, "SoftmaxCrossEntropy: 1 labels for logits 2×3", func() { SoftmaxCrossEntropy(a, []int{0}) })
	expectPanic(t, "label 3 of row 1 outside [0, 3)", func() { SoftmaxCrossEntropy(a, []int{0, 3}) })

	other := NewTape[float64]()
	c := other.Var(tensor.New[float64](2, 3))
	expectPanic(t, "belong to different tapes", func() { Add(a, c) })
	expectPanic(t, "not recorded on this tape", func() { other.Backward(Sum(a)) })

	// A loss recorded before Reset: the tape has moved on.
	loss := Sum(a)
	tape.Reset()
	expectPanic(t, "before its last Reset", func() { tape.Backward(loss) })
}

// A value used twice (fan-out) receives both gradient contributions, and a
// parameter's gradient is the last Backward's, not a running sum.
func TestFanOutAndFreshParamGradients(t *testing.T) {
	w := NewParam("w", tensor.Scalar(3.0))
	tape := NewTape[float64]()
	for step := 0; step < 3; step++ {
		tape.Reset()
		x := tape.Param(w)
		L := Add(Mul(x, x), x) // w² + w
		tape.Backward(L)
		if got := w.Grad().Scalar(); got != 7 {
			t.Fatalf("step %d: dL/dw = %g, want 2·3 + 1 = 7", step, got)
		}
	}
}

// Training-style steps on one tape allocate nothing once warm.
func TestSteadyStateStepAllocatesNothing(t *testing.T) {
	w1 := NewParam("w1", tensor.New[float64](8, 16))
	b1 := NewParam("b1", tensor.New[float64](1, 16))
	w2 := NewParam("w2", tensor.New[float64](16, 4))
	x := tensor.New[float64](5, 8)
	labels := []int{0, 1, 2, 3, 0}
	tape := NewTape[float64]()
	step := func() {
		tape.Reset()
		h := ReLU(Add(MatMul(tape.Input(x), w1), b1))
		tape.Backward(SoftmaxCrossEntropy(MatMul(h, w2), labels))
	}
	step()
	if allocs := testing.AllocsPerRun(20, step); allocs != 0 {
		t.Fatalf("warm step allocates %v times, want 0", allocs)
	}
}
