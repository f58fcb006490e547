package optim

import (
	"fmt"
	"math"

	"github.com/flowgrad/flowgrad/internal/vec"
	"github.com/flowgrad/flowgrad/tensor"
)

// MomentumForm selects how SGD combines the current gradient g with the
// past ones. Below, ε is the step's rate, g the gradient (plus λθ with
// weight decay λ) and the buffer (Δ or v) starts at zero.
//
//   - None: θ ← θ − εg.
//   - EMA, the tutorial's form (an exponential moving average of the
//     gradients, momentum α): Δ ← αΔ + (1−α)g; θ ← θ − εΔ.
//   - HeavyBall, Polyak's form and PyTorch's default (momentum μ):
//     v ← μv + g; θ ← θ − εv.
//   - Nesterov, PyTorch's form: v ← μv + g; θ ← θ − ε(g + μv), that is a
//     heavy-ball step that looks ahead along the new velocity.
//
// EMA and HeavyBall are the same method in two parametrisations: with
// v = Δ/(1−α), EMA at rate ε equals HeavyBall with μ = α at rate ε(1−α),
// for any sequence of rates (the substitution does not involve ε). EMA
// keeps the step size comparable to plain SGD's (Δ is an average of
// gradients); HeavyBall's steady-state step is 1/(1−μ) times larger.
//
// Relation to PyTorch's torch.optim.SGD(lr=ε, momentum=m, dampening=d,
// nesterov=n): HeavyBall is momentum=μ, dampening=0 and Nesterov adds
// nesterov=True, identically (PyTorch seeds its buffer with g at the first
// step, which is what μ·0 + g gives). EMA is momentum=α, dampening=α except
// at the first step: PyTorch seeds the buffer with g, undamped, whereas EMA
// starts from Δ = 0, so its first step is (1−α)εg₁ — (1−α) times PyTorch's.
// Given the same gradients, PyTorch's buffer exceeds Δ by α^k·g₁ after step
// k: the difference decays geometrically.
//
// Each form is written once, as its coefficients of the one momentum
// update (internal/vec.MomentumStep: buf ← A·buf + B·g;
// θ ← θ − C·(D·g + E·buf)), which both precisions and the AVX2 kernel
// follow; see momentumCoefficients.
type MomentumForm int

const (
	None      MomentumForm = iota // no momentum: θ ← θ − εg
	EMA                           // Δ ← αΔ + (1−α)g; θ ← θ − εΔ
	HeavyBall                     // v ← μv + g; θ ← θ − εv
	Nesterov                      // v ← μv + g; θ ← θ − ε(g + μv)
)

var formNames = [...]string{None: "none", EMA: "ema", HeavyBall: "heavyball", Nesterov: "nesterov"}

// String returns the form's name as ParseMomentumForm accepts it: "none",
// "ema", "heavyball" or "nesterov".
func (f MomentumForm) String() string {
	if f < 0 || int(f) >= len(formNames) {
		return fmt.Sprintf("MomentumForm(%d)", int(f))
	}
	return formNames[f]
}

func (f MomentumForm) valid() bool { return f >= 0 && int(f) < len(formNames) }

// ParseMomentumForm returns the form named s: "none", "ema", "heavyball" or
// "nesterov" (the -momentum-form flag). Other strings are an error.
func ParseMomentumForm(s string) (MomentumForm, error) {
	for f, name := range formNames {
		if s == name {
			return MomentumForm(f), nil
		}
	}
	return None, fmt.Errorf("optim: unknown momentum form %q (want none, ema, heavyball or nesterov)", s)
}

// momentumCoefficients returns form f's coefficients of vec.MomentumStep
// at rate ε, momentum m and weight decay λ (f is not None):
//
//	EMA:       Δ ← α·Δ + (1−α)·g;  θ ← θ − ε·(0·g + 1·Δ)
//	HeavyBall: v ← μ·v + 1·g;      θ ← θ − ε·(0·g + 1·v)
//	Nesterov:  v ← μ·v + 1·g;      θ ← θ − ε·(1·g + μ·v)
//
// A zero term adds nothing and a unit factor changes nothing, so each is
// its form's formula to the bit.
func momentumCoefficients[T tensor.Float](f MomentumForm, rate, m, wd float64) vec.Momentum[T] {
	k := vec.Momentum[T]{A: T(m), B: 1, C: T(rate), D: 0, E: 1, WD: T(wd)}
	switch f {
	case EMA:
		k.B = T(1 - m)
	case Nesterov:
		k.D, k.E = 1, T(m)
	}
	return k
}

// MaxStableRate returns the largest constant rate ε for which the given
// momentum form converges on a quadratic L = ½θᵀHθ whose Hessian H has
// largest eigenvalue lambdaMax: for ε below it every component of θ decays
// geometrically; above it the component along H's top eigenvector grows
// geometrically in magnitude, alternating in sign (the loss rises — the
// tutorial's "gradient steps go upward"). The tutorial phrases the plain
// bound as "twice the largest eigenvalue"; the bound on the step size is
// 2/λmax, twice the inverse of it.
//
// Derivation: along an eigenvector of H with eigenvalue λ the gradient is
// λθ, so each form is a linear recurrence on (θ, buffer) whose 2×2 matrix
// has characteristic polynomial χ(z) = z² − s·z + c; both roots lie inside
// the unit circle iff |c| < 1 and χ(±1) > 0, i.e. |s| < 1 + c (Jury).
// With x = ελ:
//
//   - None: θ ← (1−x)θ, stable iff |1−x| < 1: ε < 2/λmax.
//   - HeavyBall: s = 1+μ−x, c = μ. |s| < 1+μ holds iff 0 < x < 2(1+μ);
//     at the upper end a root crosses −1: ε < 2(1+μ)/λmax.
//   - EMA: HeavyBall with μ = α at rate ε(1−α) (see MomentumForm):
//     ε < 2(1+α)/((1−α)λmax).
//   - Nesterov: s = (1+μ)(1−x), c = μ(1−x). χ(1) = x > 0 and
//     χ(−1) = 1 + (1+2μ)(1−x) > 0 give x < 2(1+μ)/(1+2μ), where
//     |c| = μ/(1+2μ) < 1 still holds: ε < 2(1+μ)/((1+2μ)λmax).
//
// With momentum 0 every form reduces to 2/λmax. The bound is for a constant
// rate; with a schedule, keep ε_k below it for every k. For lambdaMax ≤ 0
// (no positive curvature, nothing to oscillate) it returns +Inf. The
// momentum argument is ignored for None. It panics if form is not one of
// the four forms or momentum is outside [0, 1).
//
// The bound is for SGD only: see [StabilityBound] for why the adaptive
// optimisers (Adam, AdamW, RMSProp, Adagrad) have none.
func MaxStableRate(form MomentumForm, momentum, lambdaMax float64) float64 {
	if !form.valid() {
		panic(fmt.Sprintf("optim: MaxStableRate: unknown momentum form %v", form))
	}
	m := momentum
	if form == None {
		m = 0
	} else if !(m >= 0 && m < 1) {
		panic(fmt.Sprintf("optim: MaxStableRate: momentum %v outside [0, 1)", m))
	}
	if lambdaMax <= 0 {
		return math.Inf(1)
	}
	switch form {
	case HeavyBall:
		return 2 * (1 + m) / lambdaMax
	case EMA:
		return 2 * (1 + m) / ((1 - m) * lambdaMax)
	case Nesterov:
		return 2 * (1 + m) / ((1 + 2*m) * lambdaMax)
	}
	return 2 / lambdaMax
}
