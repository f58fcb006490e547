package curvature

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/tensor"
)

// trainQuad runs steps of SGD with the given form at a constant rate on
// L = ½θᵀAθ from θ0 and returns L at the end relative to L at the start.
func trainQuad(t *testing.T, a, theta0 []float64, form optim.MomentumForm, m, rate float64, steps int) float64 {
	t.Helper()
	theta := autograd.NewParam("theta", tensor.FromSlice(1, len(theta0), append([]float64(nil), theta0...)))
	loss := quadLoss(theta, a)
	opt, err := optim.NewSGD([]*autograd.Value[float64]{theta}, optim.Must(optim.Constant(rate)), optim.WithMomentum(form, m))
	if err != nil {
		t.Fatal(err)
	}
	tape := autograd.NewTape[float64]()
	var l0, l float64
	for k := 0; k <= steps; k++ {
		tape.Reset()
		lv := loss(tape)
		l = lv.Scalar()
		if k == 0 {
			l0 = l
		}
		if k == steps || math.IsNaN(l) || math.IsInf(l, 0) || l > 1e12*l0 {
			break
		}
		tape.Backward(lv)
		opt.Step()
	}
	return l / l0
}

// The tutorial's stability bound as a tool: λmax ESTIMATED by power
// iteration on finite-difference Hessian-vector products, turned into each
// momentum form's bound; 1 % below it training converges, 1 % above it the
// loss grows geometrically.
func TestEstimatedBoundSeparatesConvergenceFromDivergence(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	const trueMax = 10
	a := symWithEigen(rng, []float64{trueMax, 6, 3, 1, 0.5, 0.2})
	theta0 := randVec(rng, 6)

	theta := autograd.NewParam("theta", tensor.FromSlice(1, 6, append([]float64(nil), theta0...)))
	h := New(quadLoss(theta, a), []*autograd.Value[float64]{theta}, nil)
	e, err := LambdaMax(h, rand.New(rand.NewPCG(1, 0)), &PowerOptions{Tol: 1e-9, MaxIter: 500})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(e.Value-trueMax) > 1e-5 {
		t.Fatalf("λmax estimate %.9g, true %d", e.Value, trueMax)
	}
	t.Logf("λmax ≈ %.9g (%d products)", e.Value, e.Iterations)

	for _, c := range []struct {
		form optim.MomentumForm
		m    float64
	}{
		{optim.None, 0}, {optim.EMA, 0.9}, {optim.HeavyBall, 0.9}, {optim.Nesterov, 0.9},
		{optim.EMA, 0.5}, {optim.HeavyBall, 0.5}, {optim.Nesterov, 0.5},
	} {
		bound, _, err := MaxStableRate(h, c.form, c.m, rand.New(rand.NewPCG(1, 0)), &PowerOptions{Tol: 1e-9, MaxIter: 500})
		if err != nil {
			t.Fatal(err)
		}
		if want := optim.MaxStableRate(c.form, c.m, e.Value); bound != want {
			t.Fatalf("%v: MaxStableRate %v, optim's %v", c.form, bound, want)
		}
		below := trainQuad(t, a, theta0, c.form, c.m, 0.99*bound, 5000)
		above := trainQuad(t, a, theta0, c.form, c.m, 1.01*bound, 5000)
		t.Logf("%-9v m=%.1f bound %.5f: L/L0 after 5000 steps at 0.99·bound %.2g, at 1.01·bound %.2g", c.form, c.m, bound, below, above)
		if !(below < 1e-6) {
			t.Errorf("%v m=%v: at 0.99 × bound %.5f the loss ratio is %.3g, want convergence (< 1e-6)", c.form, c.m, bound, below)
		}
		if !(above > 1e6) && !math.IsNaN(above) {
			t.Errorf("%v m=%v: at 1.01 × bound %.5f the loss ratio is %.3g, want divergence (> 1e6)", c.form, c.m, bound, above)
		}
	}
}
