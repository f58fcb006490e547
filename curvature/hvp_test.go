package curvature

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/tensor"
)

// symWithEigen returns the symmetric n×n matrix Q·diag(eigs)·Qᵀ for a
// random orthogonal Q (the QR factor of a Gaussian matrix), row-major.
func symWithEigen(rng *rand.Rand, eigs []float64) []float64 {
	n := len(eigs)
	g := mat.NewDense(n, n, nil)
	for i := range n {
		for j := range n {
			g.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(g)
	var q mat.Dense
	qr.QTo(&q)
	var a mat.Dense
	a.Mul(&q, mat.NewDiagDense(n, eigs))
	a.Mul(&a, q.T())
	out := make([]float64, n*n)
	for i := range n {
		for j := range n {
			out[i*n+j] = (a.At(i, j) + a.At(j, i)) / 2
		}
	}
	return out
}

// quadLoss returns L(θ) = ½θᵀAθ for θ a 1×n parameter and A n×n.
func quadLoss[T tensor.Float](theta *autograd.Value[T], a []float64) Loss[T] {
	n := len(theta.Data().Data())
	am := tensor.New[T](n, n)
	for i, x := range a {
		am.Data()[i] = T(x)
	}
	half := tensor.Scalar[T](0.5)
	return func(t *autograd.Tape[T]) *autograd.Value[T] {
		th := t.Param(theta)
		return autograd.Mul(autograd.Sum(autograd.Mul(autograd.MatMul(th, t.Input(am)), th)), t.Input(half))
	}
}

func matVec(a []float64, v []float64) []float64 {
	n := len(v)
	out := make([]float64, n)
	for i := range n {
		for j := range n {
			out[i] += a[i*n+j] * v[j]
		}
	}
	return out
}

func randVec(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

func randParam[T tensor.Float](rng *rand.Rand, name string, r, c int, scale float64) *autograd.Value[T] {
	d := tensor.New[T](r, c)
	for i := range d.Data() {
		d.Data()[i] = T(scale * rng.NormFloat64())
	}
	return autograd.NewParam(name, d)
}

// maxErr returns max |got − want| / (1 + max |want|).
func maxErr(got, want []float64) float64 {
	var e, s float64
	for i := range want {
		e = math.Max(e, math.Abs(got[i]-want[i]))
		s = math.Max(s, math.Abs(want[i]))
	}
	return e / (1 + s)
}

// On a quadratic the gradient is linear, so the central difference is
// exact up to round-off: H·v = A·v.
func TestHVPQuadratic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 7
	a := symWithEigen(rng, []float64{10, 4, 3, 1, 0.5, -2, 0.1})
	t.Run("float64", func(t *testing.T) {
		theta := randParam[float64](rng, "theta", 1, n, 1)
		before := slices.Clone(theta.Data().Data())
		h := New(quadLoss(theta, a), []*autograd.Value[float64]{theta}, nil)
		for range 5 {
			v := randVec(rng, n)
			got := make([]float64, n)
			h.MulVec(got, v)
			if e := maxErr(got, matVec(a, v)); e > 1e-8 {
				t.Errorf("H·v error %.3g > 1e-8", e)
			}
		}
		if !slices.Equal(before, theta.Data().Data()) {
			t.Error("parameters not restored bit for bit")
		}
		if h.Evals() != 10 {
			t.Errorf("Evals = %d, want 10 (two per product)", h.Evals())
		}
	})
	t.Run("float32", func(t *testing.T) {
		theta := randParam[float32](rng, "theta", 1, n, 1)
		before := slices.Clone(theta.Data().Data())
		h := New(quadLoss(theta, a), []*autograd.Value[float32]{theta}, nil)
		v := randVec(rng, n)
		got := make([]float64, n)
		h.MulVec(got, v)
		if e := maxErr(got, matVec(a, v)); e > 1e-3 {
			t.Errorf("float32 H·v error %.3g > 1e-3", e)
		}
		if !slices.Equal(before, theta.Data().Data()) {
			t.Error("parameters not restored bit for bit")
		}
	})
}

// tinyMLP is a 3-4-2 tanh network with softmax cross-entropy on 5 fixed
// examples, in float64: a smooth loss with a genuinely non-quadratic,
// indefinite Hessian.
func tinyMLP(rng *rand.Rand) (Loss[float64], []*autograd.Value[float64], *tensor.Dense[float64], []int) {
	w1 := randParam[float64](rng, "fc1.W", 3, 4, 0.8)
	b1 := randParam[float64](rng, "fc1.b", 1, 4, 0.3)
	w2 := randParam[float64](rng, "fc2.W", 4, 2, 0.8)
	b2 := randParam[float64](rng, "fc2.b", 1, 2, 0.3)
	x := tensor.New[float64](5, 3)
	for i := range x.Data() {
		x.Data()[i] = rng.NormFloat64()
	}
	labels := []int{0, 1, 1, 0, 1}
	loss := func(t *autograd.Tape[float64]) *autograd.Value[float64] {
		hid := autograd.Tanh(autograd.Add(autograd.MatMul(t.Input(x), w1), b1))
		return autograd.SoftmaxCrossEntropy(autograd.Add(autograd.MatMul(hid, w2), b2), labels)
	}
	return loss, []*autograd.Value[float64]{w1, b1, w2, b2}, x, labels
}

// flatParams returns pointers into the parameters' elements, flattened in
// Hessian order.
func flatParams[T tensor.Float](params []*autograd.Value[T]) []*T {
	var ps []*T
	for _, p := range params {
		for i := range p.Data().Data() {
			ps = append(ps, &p.Data().Data()[i])
		}
	}
	return ps
}

// secondDifferences returns the Hessian from loss values alone, an oracle
// independent of backpropagation:
//
//	H_ij ≈ (L(θ+heᵢ+heⱼ) − L(θ+heᵢ−heⱼ) − L(θ−heᵢ+heⱼ) + L(θ−heᵢ−heⱼ)) / 4h²
func secondDifferences(loss Loss[float64], params []*autograd.Value[float64], h float64) []float64 {
	ps := flatParams(params)
	n := len(ps)
	tape := autograd.NewTape[float64]()
	eval := func(i, j int, si, sj float64) float64 {
		xi, xj := *ps[i], *ps[j]
		*ps[i] += si * h
		*ps[j] += sj * h
		tape.Reset()
		l := loss(tape).Scalar()
		*ps[i], *ps[j] = xi, xj
		return l
	}
	hs := make([]float64, n*n)
	for i := range n {
		for j := i; j < n; j++ {
			v := (eval(i, j, 1, 1) - eval(i, j, 1, -1) - eval(i, j, -1, 1) + eval(i, j, -1, -1)) / (4 * h * h)
			hs[i*n+j], hs[j*n+i] = v, v
		}
	}
	return hs
}

// The Hessian of a tiny MLP, column by column (H·eⱼ), against second
// differences of the loss; H·v for random v against the dense product; and
// power iteration's λmax against a dense symmetric eigensolver.
func TestHVPTinyMLP(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	loss, params, _, _ := tinyMLP(rng)
	want := secondDifferences(loss, params, 1e-4)
	h := New(loss, params, nil)
	n := h.Dim()
	if n != 3*4+4+4*2+2 {
		t.Fatalf("Dim = %d, want 26", n)
	}

	got := make([]float64, n*n)
	e, col := make([]float64, n), make([]float64, n)
	for j := range n {
		clear(e)
		e[j] = 1
		h.MulVec(col, e)
		for i := range n {
			got[i*n+j] = col[i]
		}
	}
	if err := maxErr(got, want); err > 1e-6 {
		t.Errorf("Hessian columns vs second differences: error %.3g > 1e-6", err)
	}
	var asym float64
	for i := range n {
		for j := range n {
			asym = math.Max(asym, math.Abs(got[i*n+j]-got[j*n+i]))
		}
	}
	if asym > 1e-8 {
		t.Errorf("HVP Hessian asymmetric by %.3g", asym)
	}
	for range 3 {
		v := randVec(rng, n)
		hv := make([]float64, n)
		h.MulVec(hv, v)
		if err := maxErr(hv, matVec(want, v)); err > 1e-6 {
			t.Errorf("H·v vs dense: error %.3g", err)
		}
	}

	var es mat.EigenSym
	if !es.Factorize(mat.NewSymDense(n, want), false) {
		t.Fatal("EigenSym failed")
	}
	vals := es.Values(nil)
	top := slices.Max(vals)
	if slices.Min(vals) >= 0 {
		t.Logf("note: this Hessian is positive semidefinite")
	}
	eig, err := LambdaMax(h, rand.New(rand.NewPCG(5, 6)), &PowerOptions{Tol: 1e-10, MaxIter: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(eig.Value-top) > 1e-6*(1+top) {
		t.Errorf("power iteration λmax %.10g, eigensolver %.10g (spectrum %.4g)", eig.Value, top, vals)
	}
	t.Logf("tiny MLP: λmax %.6g in %d products; eigenvalues %.4g … %.4g", eig.Value, eig.Iterations, slices.Min(vals), top)
}

// denseOp is a symmetric matrix as an Operator.
type denseOp struct {
	a []float64
	n int
}

func (d denseOp) Dim() int                { return d.n }
func (d denseOp) MulVec(dst, v []float64) { copy(dst, matVec(d.a, v)) }

func TestLambdaMaxSpectra(t *testing.T) {
	for _, c := range []struct {
		name string
		eigs []float64
		want float64
	}{
		{"positive definite", []float64{9, 3, 2, 1, 0.1}, 9},
		{"indefinite, positive dominant", []float64{9, -4, 2, 1, 0}, 9},
		{"negative eigenvalue dominates (second phase)", []float64{-20, 5, 3, 1, -1}, 5},
		{"negative definite", []float64{-1, -2, -6}, -1},
		{"zero", []float64{0, 0, 0}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := symWithEigen(rand.New(rand.NewPCG(7, 8)), c.eigs)
			op := denseOp{a, len(c.eigs)}
			e, err := LambdaMax(op, rand.New(rand.NewPCG(9, 10)), &PowerOptions{Tol: 1e-12, MaxIter: 2000})
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(e.Value-c.want) > 1e-8 {
				t.Errorf("λmax = %.12g, want %g (%d products)", e.Value, c.want, e.Iterations)
			}
			if !e.Converged || e.Iterations < 1 {
				t.Errorf("Converged %v, Iterations %d", e.Converged, e.Iterations)
			}
			if c.want != 0 {
				// The vector is an eigenvector: A·v = λv.
				av := matVec(a, e.Vector)
				for i := range av {
					av[i] -= c.want * e.Vector[i]
				}
				if r := norm(av); r > 1e-4*math.Abs(c.want) {
					t.Errorf("residual ‖Av − λv‖ = %.3g", r)
				}
			}
		})
	}
}

func TestLambdaMaxDeterministicAndNotConverged(t *testing.T) {
	a := symWithEigen(rand.New(rand.NewPCG(11, 12)), []float64{5, 4.9, 1, 0.5})
	op := denseOp{a, 4}
	run := func(maxIter int) (Eigen, error) {
		return LambdaMax(op, rand.New(rand.NewPCG(42, 0)), &PowerOptions{MaxIter: maxIter, Tol: 1e-12})
	}
	e1, err1 := run(3)
	e2, _ := run(3)
	if e1.Value != e2.Value || !slices.Equal(e1.Vector, e2.Vector) {
		t.Error("two runs from the same seed differ")
	}
	if err1 == nil || e1.Converged || e1.Iterations != 3 {
		t.Fatalf("MaxIter 3 on a close gap: err %v, converged %v, iterations %d", err1, e1.Converged, e1.Iterations)
	}
	if !strings.Contains(err1.Error(), "curvature:") || !isNotConverged(err1) {
		t.Errorf("error %q does not wrap ErrNotConverged", err1)
	}
	if e1.Value > 5+1e-9 || e1.Value < 1 {
		t.Errorf("estimate %.6g outside the spectrum's range", e1.Value)
	}
}

func isNotConverged(err error) bool {
	for e := err; e != nil; {
		if e == ErrNotConverged {
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

func TestMisusePanics(t *testing.T) {
	theta := randParam[float64](rand.New(rand.NewPCG(1, 1)), "theta", 1, 3, 1)
	loss := quadLoss(theta, symWithEigen(rand.New(rand.NewPCG(1, 1)), []float64{1, 2, 3}))
	ps := []*autograd.Value[float64]{theta}
	for _, c := range []struct {
		want string
		f    func()
	}{
		{"curvature: New: no parameters", func() { New(loss, nil, nil) }},
		{"curvature: New: params[0] is not a parameter", func() { New(loss, []*autograd.Value[float64]{nil}, nil) }},
		{"curvature: New: step -1", func() { New(loss, ps, &Options{Step: -1}) }},
		{"curvature: MulVec: len(v) = 2, want Dim = 3", func() { New(loss, ps, nil).MulVec(make([]float64, 3), make([]float64, 2)) }},
		{"curvature: LambdaMax: nil rng", func() { LambdaMax(New(loss, ps, nil), nil, nil) }},
	} {
		func() {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), c.want) {
					t.Errorf("panic %v, want one containing %q", r, c.want)
				}
			}()
			c.f()
		}()
	}
}

func TestGradientAndZeroVector(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	a := symWithEigen(rng, []float64{3, 2, 1})
	theta := randParam[float64](rng, "theta", 1, 3, 1)
	h := New(quadLoss(theta, a), []*autograd.Value[float64]{theta}, nil)
	g := make([]float64, 3)
	l := h.Gradient(g)
	th := theta.Data().Data()
	if e := maxErr(g, matVec(a, th)); e > 1e-14 {
		t.Errorf("gradient error %.3g", e)
	}
	if want := dot(th, matVec(a, th)) / 2; math.Abs(l-want) > 1e-14 {
		t.Errorf("loss %v, want %v", l, want)
	}
	dst := []float64{1, 2, 3}
	h.MulVec(dst, make([]float64, 3))
	if !slices.Equal(dst, []float64{0, 0, 0}) {
		t.Errorf("H·0 = %v", dst)
	}
}

// The same tiny MLP in float32 (how models train): its finite-difference
// Hessian-vector products, with float32's default step, agree with the
// float64 Hessian to better than 5e-4 (3e-5 measured), and λmax to 1e-3.
func TestHVPTinyMLPFloat32(t *testing.T) {
	loss64, params64, x64, labels := tinyMLP(rand.New(rand.NewPCG(3, 4)))
	want := secondDifferences(loss64, params64, 1e-4)
	n := len(flatParams(params64))

	// The float32 copy of the same network and data.
	params := make([]*autograd.Value[float32], len(params64))
	for i, p := range params64 {
		d := tensor.New[float32](p.Data().Rows(), p.Data().Cols())
		for j, x := range p.Data().Data() {
			d.Data()[j] = float32(x)
		}
		params[i] = autograd.NewParam(p.Name(), d)
	}
	x := tensor.New[float32](x64.Rows(), x64.Cols())
	for i, v := range x64.Data() {
		x.Data()[i] = float32(v)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	loss := func(t *autograd.Tape[float32]) *autograd.Value[float32] {
		hid := autograd.Tanh(autograd.Add(autograd.MatMul(t.Input(x), params[0]), params[1]))
		return autograd.SoftmaxCrossEntropy(autograd.Add(autograd.MatMul(hid, params[2]), params[3]), labels)
	}
	h := New(loss, params, nil)
	if h.Dim() != n {
		t.Fatalf("Dim %d, want %d", h.Dim(), n)
	}
	// Same loss value first: the replay of the data is right.
	tape := autograd.NewTape[float64]()
	tape32 := autograd.NewTape[float32]()
	if l64, l32 := loss64(tape).Scalar(), float64(loss(tape32).Scalar()); math.Abs(l64-l32) > 1e-6 {
		t.Fatalf("float32 loss %v, float64 loss %v: not the same network", l32, l64)
	}
	for range 3 {
		v := randVec(rng, n)
		got := make([]float64, n)
		h.MulVec(got, v)
		e := maxErr(got, matVec(want, v))
		if e > 5e-4 {
			t.Errorf("float32 H·v error %.3g > 5e-4", e)
		}
		t.Logf("float32 H·v error %.2g", e)
	}
	var es mat.EigenSym
	es.Factorize(mat.NewSymDense(n, want), false)
	top := slices.Max(es.Values(nil))
	e, err := LambdaMax(h, rand.New(rand.NewPCG(5, 6)), &PowerOptions{Tol: 1e-4, MaxIter: 500})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(e.Value-top) > 1e-3*top {
		t.Errorf("float32 λmax %.6g, exact %.6g", e.Value, top)
	}
	t.Logf("float32 λmax %.6g (%d products), exact %.6g", e.Value, e.Iterations, top)
}
