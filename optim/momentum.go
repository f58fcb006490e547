package optim

import (
	"fmt"
	"math"

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

// updateFunc applies one step to one parameter: theta, grad and buf (the
// momentum buffer, nil for None) have the same length; rate is ε, m the
// momentum (α or μ) and wd the weight decay λ. It reads grad, and updates
// theta and buf in place, in one pass.
type updateFunc[T tensor.Float] func(theta, grad, buf []T, rate, m, wd T)

// updateFor returns the update function of a form.
func updateFor[T tensor.Float](f MomentumForm) updateFunc[T] {
	switch f {
	case EMA:
		return emaUpdate[T]
	case HeavyBall:
		return heavyBallUpdate[T]
	case Nesterov:
		return nesterovUpdate[T]
	}
	return plainUpdate[T]
}

// plainUpdate is SGD without momentum (buf and m are unused):
//
//	for i := range theta {
//		g := grad[i] + wd*theta[i]
//		theta[i] -= rate * g
//	}
func plainUpdate[T tensor.Float](theta, grad, _ []T, rate, _, wd T) {
	grad = grad[:len(theta)]
	for i, th := range theta {
		g := grad[i] + wd*th
		theta[i] = th - rate*g
	}
}

// emaUpdate is the tutorial's momentum, an exponential moving average of
// the gradients with m = α:
//
//	for i := range theta {
//		g := grad[i] + wd*theta[i]
//		delta[i] = α*delta[i] + (1-α)*g
//		theta[i] -= rate * delta[i]
//	}
func emaUpdate[T tensor.Float](theta, grad, delta []T, rate, alpha, wd T) {
	grad, delta = grad[:len(theta)], delta[:len(theta)]
	c := 1 - alpha
	for i, th := range theta {
		g := grad[i] + wd*th
		d := alpha*delta[i] + c*g
		delta[i] = d
		theta[i] = th - rate*d
	}
}

// heavyBallUpdate is Polyak's heavy ball (PyTorch's default momentum) with
// m = μ:
//
//	for i := range theta {
//		g := grad[i] + wd*theta[i]
//		v[i] = μ*v[i] + g
//		theta[i] -= rate * v[i]
//	}
func heavyBallUpdate[T tensor.Float](theta, grad, v []T, rate, mu, wd T) {
	grad, v = grad[:len(theta)], v[:len(theta)]
	for i, th := range theta {
		g := grad[i] + wd*th
		vi := mu*v[i] + g
		v[i] = vi
		theta[i] = th - rate*vi
	}
}

// nesterovUpdate is PyTorch's Nesterov momentum with m = μ:
//
//	for i := range theta {
//		g := grad[i] + wd*theta[i]
//		v[i] = μ*v[i] + g
//		theta[i] -= rate * (g + μ*v[i])
//	}
func nesterovUpdate[T tensor.Float](theta, grad, v []T, rate, mu, wd T) {
	grad, v = grad[:len(theta)], v[:len(theta)]
	for i, th := range theta {
		g := grad[i] + wd*th
		vi := mu*v[i] + g
		v[i] = vi
		theta[i] = th - rate*(g+mu*vi)
	}
}
