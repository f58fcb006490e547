package curvature

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowgrad/flowgrad/optim"
)

// Operator is a symmetric linear map on vectors of length Dim, such as a
// *Hessian: MulVec sets dst = A·v (dst and v do not overlap).
type Operator interface {
	Dim() int
	MulVec(dst, v []float64)
}

// PowerOptions sets when power iteration stops. A nil *PowerOptions, and a
// zero field, mean the defaults.
type PowerOptions struct {
	// MaxIter caps the products A·v per phase (see LambdaMax); default 100.
	MaxIter int
	// Tol stops a phase when the Rayleigh quotient changes by at most
	// Tol·|λ| from one iteration to the next; default 1e-3.
	Tol float64
}

// Eigen is an estimate of an eigenpair of a symmetric operator.
type Eigen struct {
	// Value is the Rayleigh quotient vᵀAv of Vector: λmax's estimate.
	Value float64
	// Vector is the unit vector whose Rayleigh quotient is Value.
	Vector []float64
	// Iterations is the number of products A·v used, over both phases.
	Iterations int
	// Converged reports whether the last phase met the tolerance.
	Converged bool
}

// ErrNotConverged is wrapped by the error LambdaMax returns when a phase
// reaches MaxIter before the tolerance; the estimate is returned with it.
var ErrNotConverged = errors.New("power iteration did not converge")

// LambdaMax estimates the largest eigenvalue λmax of the symmetric operator
// a by power iteration from a random start vector drawn from rng (so the
// result is a deterministic function of rng's state and a):
//
//	v ← w/‖w‖,  w = A·v,  λ = vᵀAv  (the Rayleigh quotient, ‖v‖ = 1)
//
// until λ changes by at most Tol·|λ| or MaxIter products are spent. Power
// iteration finds the eigenvalue of largest magnitude; if that is negative
// (a saddle whose negative curvature dominates), a second phase iterates
// A − λI, whose largest-magnitude eigenvalue is λmax − λ ≥ 0, and adds λ
// back. Convergence is geometric with ratio |λ₂/λ₁|, so it is fast when
// the top eigenvalue stands out, as it usually does for a network's
// Hessian.
//
// It returns the estimate and, if the last phase did not converge, an
// error wrapping ErrNotConverged (the estimate is then still the best
// available). It panics if a.Dim() < 1 or rng is nil.
func LambdaMax(a Operator, rng *rand.Rand, opt *PowerOptions) (Eigen, error) {
	o := PowerOptions{MaxIter: 100, Tol: 1e-3}
	if opt != nil {
		if opt.MaxIter != 0 {
			o.MaxIter = opt.MaxIter
		}
		if opt.Tol != 0 {
			o.Tol = opt.Tol
		}
	}
	if a.Dim() < 1 {
		panic("curvature: LambdaMax: operator of dimension < 1")
	}
	if rng == nil {
		panic("curvature: LambdaMax: nil rng (pass rand.New(rand.NewPCG(seed, seq)))")
	}
	e, change := power(a, 0, rng, o)
	if e.Value < 0 {
		iters := e.Iterations
		e, change = power(a, e.Value, rng, o)
		e.Iterations += iters
	}
	if !e.Converged {
		return e, fmt.Errorf("curvature: λmax ≈ %.6g after %d products, last relative change %.3g > tolerance %.3g: %w",
			e.Value, e.Iterations, change, o.Tol, ErrNotConverged)
	}
	return e, nil
}

// power runs one phase of power iteration on A − shift·I and returns the
// eigenpair estimate of A (shift added back) and the last relative change.
func power(a Operator, shift float64, rng *rand.Rand, o PowerOptions) (Eigen, float64) {
	n := a.Dim()
	v, w := make([]float64, n), make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	scale(v, 1/norm(v))
	var e Eigen
	change := math.Inf(1)
	prev := 0.0
	for k := 1; k <= o.MaxIter; k++ {
		a.MulVec(w, v)
		for i := range w {
			w[i] -= shift * v[i]
		}
		lambda := dot(v, w)
		e.Iterations, e.Value, e.Vector = k, lambda+shift, v
		if k > 1 {
			change = math.Abs(lambda-prev) / math.Abs(lambda)
			if lambda == prev {
				change = 0
			}
		}
		prev = lambda
		nw := norm(w)
		if nw == 0 || change <= o.Tol {
			// v is in the null space (λ = 0 exactly), or the quotient has
			// settled: v is the vector whose quotient e.Value is.
			e.Converged = true
			break
		}
		v, w = w, v
		scale(v, 1/nw)
	}
	return e, change
}

func dot(x, y []float64) float64 {
	var s float64
	for i, xi := range x {
		s += xi * y[i]
	}
	return s
}

func norm(x []float64) float64 { return math.Sqrt(dot(x, x)) }

func scale(x []float64, a float64) {
	for i := range x {
		x[i] *= a
	}
}

// MaxStableRate returns λmax's estimate from LambdaMax and the largest
// constant rate at which the given momentum form stays stable on the local
// quadratic model of the loss, optim.MaxStableRate(form, momentum, λmax):
// 2/λmax for plain SGD, 2(1+μ)/λmax for heavy ball, 2(1+α)/((1−α)λmax)
// for the tutorial's EMA, 2(1+μ)/((1+2μ)λmax) for Nesterov. The error is
// LambdaMax's. It panics as optim.MaxStableRate does for a bad form or
// momentum.
func MaxStableRate(a Operator, form optim.MomentumForm, momentum float64, rng *rand.Rand, opt *PowerOptions) (rate float64, e Eigen, err error) {
	e, err = LambdaMax(a, rng, opt)
	return optim.MaxStableRate(form, momentum, e.Value), e, err
}
