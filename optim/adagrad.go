package optim

import (
	"fmt"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/internal/vec"
	"github.com/flowgrad/flowgrad/tensor"
)

// Adagrad is Adagrad (Duchi, Hazan and Singer, 2011) as PyTorch documents
// torch.optim.Adagrad, with its rate decay η expressed as the schedule:
// with rate γ̃_t = Rate(), weight decay λ and state_sum₀ = 0,
//
//	g_t ← ∇θ f_t(θ_{t−1})
//	if λ ≠ 0: g_t ← g_t + λθ_{t−1}
//	state_sum_t ← state_sum_{t−1} + g_t²
//	θ_t ← θ_{t−1} − γ̃_t·g_t/(√state_sum_t + ε)
//
// evaluated in that order, left to right. PyTorch's γ̃_t = γ/(1 + (t−1)η)
// is InverseTime(γ, 1/η) here (equal up to rounding); its default η = 0 is
// Constant(γ). The initial accumulator is 0 (PyTorch's default).
//
// The state is one buffer per parameter, slot "sum"; State's Kind is
// "adagrad". Each Step is one fused pass per parameter (vec.AdagradStep),
// in the AVX2 kernel for float32 where the CPU has it, and allocates
// nothing. It is not safe for concurrent use.
type Adagrad[T tensor.Float] struct {
	core[T]
	eps, decay float64
	coef       vec.Adagrad[T]
}

// NewAdagrad returns Adagrad over params at the rates of rate (PyTorch's
// default is Constant(0.01)). It takes WithEps (default 1e-10) and
// WithWeightDecay (coupled L2, default 0).
//
// It returns an error naming the bad value if rate is nil or its Rate(0)
// is negative or not finite, ε is not finite and > 0, the weight decay is
// negative or not finite, or an option of another optimiser is given. It
// panics as NewSGD does for nil or same-named parameters.
func NewAdagrad[T tensor.Float](params []*autograd.Value[T], rate Schedule, opts ...Option) (*Adagrad[T], error) {
	c, err := configure("NewAdagrad", config{eps: 1e-10}, opts, "WithEps", "WithWeightDecay")
	if err != nil {
		return nil, err
	}
	if err := checkEps(c.eps); err != nil {
		return nil, err
	}
	o := &Adagrad[T]{eps: c.eps, decay: c.decay}
	err = o.init("Adagrad", "adagrad", params, rate, []string{"sum"}, o.update)
	if err != nil {
		return nil, err
	}
	return o, nil
}

// Step applies one update to every parameter from its current Grad at rate
// γ̃ = Rate(), then advances the step count. It panics as SGD.Step does.
func (o *Adagrad[T]) Step() {
	rate := o.begin()
	o.coef = vec.Adagrad[T]{Rate: T(rate), Eps: T(o.eps), WD: T(o.decay)}
	o.run()
}

func (o *Adagrad[T]) update(p, a, b int) {
	var buf [1][]T
	theta, grad := o.ranges(p, a, b, buf[:])
	vec.AdagradStep(theta, grad, buf[0], &o.coef)
}

// String describes the configuration, for logs, e.g.
// "Adagrad(rate=Constant(0.01), eps=1e-10, weight decay=0)".
func (o *Adagrad[T]) String() string {
	return fmt.Sprintf("Adagrad(rate=%v, eps=%v, weight decay=%v)", o.schedule, o.eps, o.decay)
}
