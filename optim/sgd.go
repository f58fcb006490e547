package optim

import (
	"fmt"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/internal/vec"
	"github.com/flowgrad/flowgrad/tensor"
)

// SGD is minibatch stochastic gradient descent over a fixed set of named
// parameters, with the momentum form, momentum and weight decay chosen at
// construction and the rate given by a Schedule. Each Step updates every
// parameter in place from its current Grad:
//
//	g ← Grad + λθ                  (L2 weight decay λ; g = Grad when λ = 0)
//	the form's update at rate ε_k  (see MomentumForm)
//	k ← k + 1
//
// The weight-decay term is PyTorch's coupled L2 (weight_decay=λ): it is the
// gradient of (λ/2)‖θ‖², added to g before the momentum, and the parameters'
// Grad matrices are not modified. It applies to every parameter, biases
// included; to exempt some, give them their own SGD.
//
// An SGD holds the step counter k and, for the momentum forms, one buffer
// per parameter (slot "momentum_buffer", allocated once by NewSGD); State
// and SetState read and restore both for checkpoints. Its State's Kind is
// "sgd/" and the form's name. It is not safe for concurrent use.
type SGD[T tensor.Float] struct {
	core[T]
	form     MomentumForm
	momentum float64
	decay    float64
	coef     vec.Momentum[T] // this step's coefficients (momentum forms)
	rate     T               // this step's rate
}

// NewSGD returns an optimiser for params whose rate at step k is
// rate.Rate(k); for a fixed rate pass Constant(ε). The step counter starts
// at 0 and momentum buffers at zero. It takes WithMomentum and
// WithWeightDecay.
//
// It returns an error naming the bad value if rate is nil or its Rate(0)
// is negative or not finite, the momentum form is unknown, the momentum is
// outside [0, 1) (or non-zero with form None), the weight decay is
// negative or not finite, or an option of another optimiser is given. It
// panics if a parameter is nil or two parameters have the same Name
// (buffers are keyed by name in State). params is copied; the parameters'
// matrices are used, not copied.
func NewSGD[T tensor.Float](params []*autograd.Value[T], rate Schedule, opts ...Option) (*SGD[T], error) {
	c, err := configure("NewSGD", config{}, opts, "WithMomentum", "WithWeightDecay")
	if err != nil {
		return nil, err
	}
	if !c.form.valid() {
		return nil, fmt.Errorf("optim: unknown momentum form %v", c.form)
	}
	if c.form == None && c.momentum != 0 {
		return nil, fmt.Errorf("optim: momentum %v given with form none (want 0, or choose a form)", c.momentum)
	}
	if err := checkUnit("momentum", c.momentum); err != nil {
		return nil, err
	}
	var slots []string
	if c.form != None {
		slots = []string{"momentum_buffer"}
	}
	s := &SGD[T]{form: c.form, momentum: c.momentum, decay: c.decay}
	err = s.init("SGD", "sgd/"+c.form.String(), params, rate, slots, s.update)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Step applies one update to every parameter from its current Grad at rate
// ε_k = Rate(), then advances k. It allocates nothing. Step uses whatever
// Grad holds: a parameter that the last Backward's loss did not depend on
// keeps the gradient of an earlier Backward (see autograd.Value.Grad), so
// the loss should depend on every parameter given to NewSGD. It panics if a
// parameter has no gradient matrix (a tape value passed as a parameter
// before any Backward reached it) or if the schedule returns a rate that is
// negative or not finite.
//
// The update is one pass per parameter (vec.MomentumStep with the form's
// coefficients, or vec.PlainStep), in the AVX2 kernels for float32 where
// the CPU has them, split into equal element ranges across cores when the
// model has more than 2M parameters.
func (s *SGD[T]) Step() {
	rate := s.begin()
	s.rate = T(rate)
	s.coef = momentumCoefficients[T](s.form, rate, s.momentum, s.decay)
	s.run()
}

// update updates elements [a, b) of parameter p.
func (s *SGD[T]) update(p, a, b int) {
	var buf [1][]T
	theta, grad := s.ranges(p, a, b, buf[:len(s.slots)])
	if s.form == None {
		vec.PlainStep(theta, grad, s.rate, T(s.decay))
		return
	}
	vec.MomentumStep(theta, grad, buf[0], &s.coef)
}

// Form returns the momentum form.
func (s *SGD[T]) Form() MomentumForm { return s.form }

// String describes the configuration, for logs, e.g.
// "SGD(rate=Constant(0.05), momentum=ema 0.9, weight decay=0.0001)".
func (s *SGD[T]) String() string {
	return fmt.Sprintf("SGD(rate=%v, momentum=%v %v, weight decay=%v)", s.schedule, s.form, s.momentum, s.decay)
}
