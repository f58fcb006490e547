package optim

import (
	"fmt"
	"math"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/internal/vec"
	"github.com/flowgrad/flowgrad/tensor"
)

// Adam is Adam (Kingma and Ba, 2015) with bias correction, or AdamW
// (Loshchilov and Hutter, 2019) with decoupled weight decay, exactly as
// PyTorch documents torch.optim.Adam and torch.optim.AdamW (without
// amsgrad). With rate γ_t = Rate() at step t = k+1, moments m₀ = v₀ = 0:
//
//	g_t ← ∇θ f_t(θ_{t−1})
//	Adam:  if λ ≠ 0: g_t ← g_t + λθ_{t−1}
//	AdamW: θ_t ← θ_{t−1} − γλθ_{t−1}
//	m_t ← β1·m_{t−1} + (1−β1)·g_t
//	v_t ← β2·v_{t−1} + (1−β2)·g_t²
//	m̂_t ← m_t/(1−β1^t)
//	v̂_t ← v_t/(1−β2^t)
//	θ_t ← θ_t − γ·m̂_t/(√v̂_t + ε)
//
// (for Adam, θ_t on the right of the last line is θ_{t−1}). Every product
// and quotient is evaluated in that order, left to right, so a float64
// trajectory is the bits of this recurrence written out plainly (β^t is
// math.Pow). PyTorch's own code rearranges the arithmetic (it folds
// 1/(1−β1^t) into the step size and divides √v_t by √(1−β2^t)), so its
// results agree to rounding, not to the bit.
//
// The state is two buffers per parameter, slots "exp_avg" (m) and
// "exp_avg_sq" (v); State's Kind is "adam" or "adamw". Each Step is one
// fused pass per parameter (vec.AdamStep), in the AVX2 kernel for float32
// where the CPU has it, and allocates nothing. It is not safe for
// concurrent use.
type Adam[T tensor.Float] struct {
	core[T]
	beta1, beta2, eps, decay float64
	decoupled                bool
	coef                     vec.Adam[T]
}

var adamDefaults = config{beta1: 0.9, beta2: 0.999, eps: 1e-8}

// NewAdam returns Adam over params at the rates of rate (PyTorch's default
// is Constant(0.001)). It takes WithBetas (default 0.9, 0.999), WithEps
// (default 1e-8) and WithWeightDecay (coupled L2, default 0).
//
// It returns an error naming the bad value if rate is nil or its Rate(0)
// is negative or not finite, a β is outside [0, 1), ε is not finite and
// > 0, the weight decay is negative or not finite, or an option of another
// optimiser is given. It panics as NewSGD does for nil or same-named
// parameters.
func NewAdam[T tensor.Float](params []*autograd.Value[T], rate Schedule, opts ...Option) (*Adam[T], error) {
	return newAdam(params, rate, false, opts)
}

// NewAdamW returns AdamW over params: Adam with the decoupled weight decay
// θ ← θ − γλθ (default λ = 0.01, PyTorch's) in place of L2 decay. Its
// options and errors are NewAdam's.
func NewAdamW[T tensor.Float](params []*autograd.Value[T], rate Schedule, opts ...Option) (*Adam[T], error) {
	return newAdam(params, rate, true, opts)
}

func newAdam[T tensor.Float](params []*autograd.Value[T], rate Schedule, decoupled bool, opts []Option) (*Adam[T], error) {
	name, defaults := "Adam", adamDefaults
	if decoupled {
		name, defaults.decay = "AdamW", 0.01
	}
	c, err := configure("New"+name, defaults, opts, "WithBetas", "WithEps", "WithWeightDecay")
	if err != nil {
		return nil, err
	}
	if err := checkUnit("beta1", c.beta1); err != nil {
		return nil, err
	}
	if err := checkUnit("beta2", c.beta2); err != nil {
		return nil, err
	}
	if err := checkEps(c.eps); err != nil {
		return nil, err
	}
	o := &Adam[T]{beta1: c.beta1, beta2: c.beta2, eps: c.eps, decay: c.decay, decoupled: decoupled}
	kind := "adam"
	if decoupled {
		kind = "adamw"
	}
	err = o.init(name, kind, params, rate, []string{"exp_avg", "exp_avg_sq"}, o.update)
	if err != nil {
		return nil, err
	}
	return o, nil
}

// Step applies one update to every parameter from its current Grad at rate
// γ = Rate(), then advances the step count. It panics as SGD.Step does.
func (o *Adam[T]) Step() {
	rate := o.begin()
	t := float64(o.k + 1)
	o.coef = vec.Adam[T]{
		B1: T(o.beta1), C1: T(1 - o.beta1), B2: T(o.beta2), C2: T(1 - o.beta2),
		BC1: T(1 - math.Pow(o.beta1, t)), BC2: T(1 - math.Pow(o.beta2, t)),
		Rate: T(rate), Eps: T(o.eps),
	}
	if o.decoupled {
		o.coef.DecayRate = T(rate * o.decay)
	} else {
		o.coef.WD = T(o.decay)
	}
	o.run()
}

func (o *Adam[T]) update(p, a, b int) {
	var buf [2][]T
	theta, grad := o.ranges(p, a, b, buf[:])
	vec.AdamStep(theta, grad, buf[0], buf[1], &o.coef)
}

// String describes the configuration, for logs, e.g.
// "Adam(rate=Constant(0.001), betas=(0.9, 0.999), eps=1e-08, weight decay=0)".
func (o *Adam[T]) String() string {
	return fmt.Sprintf("%s(rate=%v, betas=(%v, %v), eps=%v, weight decay=%v)", o.name, o.schedule, o.beta1, o.beta2, o.eps, o.decay)
}
