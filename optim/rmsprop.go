package optim

import (
	"fmt"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/internal/vec"
	"github.com/flowgrad/flowgrad/tensor"
)

// RMSProp is RMSProp (Hinton's lecture 6e), optionally centred (Graves,
// 2013) and optionally with momentum, exactly as PyTorch documents
// torch.optim.RMSprop. With rate γ = Rate(), smoothing α, momentum μ,
// weight decay λ, and v₀ = g_ave₀ = b₀ = 0:
//
//	g_t ← ∇θ f_t(θ_{t−1})
//	if λ ≠ 0: g_t ← g_t + λθ_{t−1}
//	v_t ← α·v_{t−1} + (1−α)·g_t²
//	ṽ_t ← v_t
//	if centred: g_ave_t ← g_ave_{t−1}·α + (1−α)·g_t;  ṽ_t ← ṽ_t − (g_ave_t)²
//	if μ > 0:   b_t ← μ·b_{t−1} + g_t/(√ṽ_t + ε);  θ_t ← θ_{t−1} − γ·b_t
//	else:       θ_t ← θ_{t−1} − γ·g_t/(√ṽ_t + ε)
//
// evaluated in that order, left to right (so a float64 trajectory is the
// bits of this recurrence written out plainly). The centred ṽ_t is a
// variance estimate that rounding can make slightly negative when the
// gradients barely vary; its square root is then NaN, as in PyTorch.
//
// The state per parameter is slot "square_avg" (v), then "grad_avg"
// (g_ave) when centred, then "momentum_buffer" (b) with momentum; State's
// Kind is "rmsprop". Each Step is one fused pass per parameter
// (vec.RMSPropStep), in the AVX2 kernel for float32 where the CPU has it,
// and allocates nothing. It is not safe for concurrent use.
type RMSProp[T tensor.Float] struct {
	core[T]
	alpha, eps, momentum, decay float64
	centered                    bool
	coef                        vec.RMSProp[T]
}

// NewRMSProp returns RMSProp over params at the rates of rate (PyTorch's
// default is Constant(0.01)). It takes WithAlpha (default 0.99), WithEps
// (default 1e-8), WithMomentum (form HeavyBall, μ ∈ [0, 1); default none),
// WithCentered and WithWeightDecay (coupled L2, default 0).
//
// It returns an error naming the bad value if rate is nil or its Rate(0)
// is negative or not finite, α or μ is outside [0, 1), the momentum form
// is not HeavyBall or None, ε is not finite and > 0, the weight decay is
// negative or not finite, or an option of another optimiser is given. It
// panics as NewSGD does for nil or same-named parameters.
func NewRMSProp[T tensor.Float](params []*autograd.Value[T], rate Schedule, opts ...Option) (*RMSProp[T], error) {
	c, err := configure("NewRMSProp", config{alpha: 0.99, eps: 1e-8}, opts,
		"WithAlpha", "WithEps", "WithMomentum", "WithCentered", "WithWeightDecay")
	if err != nil {
		return nil, err
	}
	if c.form != None && c.form != HeavyBall {
		return nil, fmt.Errorf("optim: NewRMSProp: momentum form %v (RMSProp's momentum is heavyball: b ← μb + g/(√ṽ+ε))", c.form)
	}
	if err := checkUnit("alpha", c.alpha); err != nil {
		return nil, err
	}
	if err := checkUnit("momentum", c.momentum); err != nil {
		return nil, err
	}
	if err := checkEps(c.eps); err != nil {
		return nil, err
	}
	o := &RMSProp[T]{alpha: c.alpha, eps: c.eps, momentum: c.momentum, decay: c.decay, centered: c.centered}
	slots := []string{"square_avg"}
	if c.centered {
		slots = append(slots, "grad_avg")
	}
	if c.momentum > 0 {
		slots = append(slots, "momentum_buffer")
	}
	err = o.init("RMSProp", "rmsprop", params, rate, slots, o.update)
	if err != nil {
		return nil, err
	}
	return o, nil
}

// Step applies one update to every parameter from its current Grad at rate
// γ = Rate(), then advances the step count. It panics as SGD.Step does.
func (o *RMSProp[T]) Step() {
	rate := o.begin()
	o.coef = vec.RMSProp[T]{
		Alpha: T(o.alpha), C: T(1 - o.alpha), Mu: T(o.momentum), Rate: T(rate), Eps: T(o.eps), WD: T(o.decay),
		Centered: o.centered, Momentum: o.momentum > 0,
	}
	o.run()
}

func (o *RMSProp[T]) update(p, a, b int) {
	var bufs [3][]T
	theta, grad := o.ranges(p, a, b, bufs[:len(o.slots)])
	sq, rest := bufs[0], bufs[1:]
	var avg, mom []T
	if o.centered {
		avg, rest = rest[0], rest[1:]
	}
	if o.momentum > 0 {
		mom = rest[0]
	}
	vec.RMSPropStep(theta, grad, sq, avg, mom, &o.coef)
}

// String describes the configuration, for logs, e.g.
// "RMSProp(rate=Constant(0.01), alpha=0.99, eps=1e-08, momentum=0, centered=false, weight decay=0)".
func (o *RMSProp[T]) String() string {
	return fmt.Sprintf("RMSProp(rate=%v, alpha=%v, eps=%v, momentum=%v, centered=%v, weight decay=%v)",
		o.schedule, o.alpha, o.eps, o.momentum, o.centered, o.decay)
}
