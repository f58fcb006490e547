package optim

import (
	"fmt"
	"math"

	"github.com/flowgrad/flowgrad/autograd"
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
// per parameter (allocated once by NewSGD); State and SetState read and
// restore both for checkpoints. It is not safe for concurrent use.
type SGD[T tensor.Float] struct {
	params   []*autograd.Value[T]
	bufs     [][]T // momentum buffers, parallel to params; nil for None
	schedule Schedule
	form     MomentumForm
	momentum float64
	decay    float64
	m, wd    T // momentum and weight decay in T, for the update function
	update   updateFunc[T]
	k        int
	job      stepJob[T]
}

// Option configures NewSGD.
type Option func(*config)

type config struct {
	form     MomentumForm
	momentum float64
	decay    float64
}

// WithMomentum selects the momentum form and its coefficient (α for EMA, μ
// for HeavyBall and Nesterov), which must lie in [0, 1). With form None,
// momentum must be 0. Without this option SGD uses no momentum.
func WithMomentum(form MomentumForm, momentum float64) Option {
	return func(c *config) { c.form, c.momentum = form, momentum }
}

// WithWeightDecay adds L2 weight decay λ ≥ 0: g ← g + λθ before the
// momentum update. Without this option λ = 0.
func WithWeightDecay(lambda float64) Option {
	return func(c *config) { c.decay = lambda }
}

// NewSGD returns an optimiser for params whose rate at step k is
// rate.Rate(k); for a fixed rate pass Constant(ε). The step counter starts
// at 0 and momentum buffers at zero.
//
// It returns an error naming the bad value if rate is nil or its Rate(0)
// is negative or not finite, the momentum form is unknown, the momentum is
// outside [0, 1) (or non-zero with form None), or the weight decay is
// negative or not finite. It panics if a parameter is nil or two
// parameters have the same Name (buffers are keyed by name in State).
// params is copied; the parameters' matrices are used, not copied.
func NewSGD[T tensor.Float](params []*autograd.Value[T], rate Schedule, opts ...Option) (*SGD[T], error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	if rate == nil {
		return nil, fmt.Errorf("optim: NewSGD: nil schedule (use Constant for a fixed rate)")
	}
	if err := checkRate("rate", rate.Rate(0)); err != nil {
		return nil, err
	}
	if !c.form.valid() {
		return nil, fmt.Errorf("optim: unknown momentum form %v", c.form)
	}
	if c.form == None && c.momentum != 0 {
		return nil, fmt.Errorf("optim: momentum %v given with form none (want 0, or choose a form)", c.momentum)
	}
	if !(c.momentum >= 0 && c.momentum < 1) {
		return nil, fmt.Errorf("optim: momentum %v outside [0, 1)", c.momentum)
	}
	if err := checkRate("weight decay", c.decay); err != nil {
		return nil, err
	}

	seen := make(map[string]bool, len(params))
	for i, p := range params {
		if p == nil {
			panic(fmt.Sprintf("optim: NewSGD: parameter %d is nil", i))
		}
		if seen[p.Name()] {
			panic(fmt.Sprintf("optim: NewSGD: two parameters named %q", p.Name()))
		}
		seen[p.Name()] = true
	}

	s := &SGD[T]{
		params:   append([]*autograd.Value[T](nil), params...),
		bufs:     make([][]T, len(params)),
		schedule: rate,
		form:     c.form,
		momentum: c.momentum,
		decay:    c.decay,
		m:        T(c.momentum),
		wd:       T(c.decay),
		update:   updateFor[T](c.form),
	}
	if c.form != None {
		for i, p := range params {
			s.bufs[i] = make([]T, p.Data().Len())
		}
	}
	s.job.s = s
	for _, p := range params {
		s.job.total += p.Data().Len()
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
// For float32 parameters the update runs in the assembly kernels of
// internal/vec (one pass per parameter, every form as vec.MomentumStep with
// its coefficients), split into equal element ranges across cores when the
// model has more than 2M parameters; the float64 path runs the form's
// plain Go update function.
func (s *SGD[T]) Step() {
	rate := s.Rate()
	if !(rate >= 0) || math.IsInf(rate, 1) {
		panic(fmt.Sprintf("optim: Step: schedule %v gave rate %v at step %d", s.schedule, rate, s.k))
	}
	for _, p := range s.params {
		if p.Grad() == nil {
			panic(fmt.Sprintf("optim: Step: parameter %q has no gradient", p.Name()))
		}
	}
	s.job.run(T(rate))
	s.k++
}

// Rate returns ε_k, the rate the next Step will use.
func (s *SGD[T]) Rate() float64 { return s.schedule.Rate(s.k) }

// StepCount returns k, the number of Steps taken (or restored by SetState).
func (s *SGD[T]) StepCount() int { return s.k }

// Schedule returns the schedule that gives the rates.
func (s *SGD[T]) Schedule() Schedule { return s.schedule }

// Form returns the momentum form.
func (s *SGD[T]) Form() MomentumForm { return s.form }

// String describes the configuration, for logs, e.g.
// "SGD(rate=Constant(0.05), momentum=ema 0.9, weight decay=0.0001)".
func (s *SGD[T]) String() string {
	return fmt.Sprintf("SGD(rate=%v, momentum=%v %v, weight decay=%v)", s.schedule, s.form, s.momentum, s.decay)
}

// State is an SGD's resumable state: the step counter and the momentum
// buffers by parameter name (each of the parameter's length, in row-major
// order; nil for form None). The schedule, being a function of Step, needs
// no state of its own.
type State[T tensor.Float] struct {
	Step    int
	Form    MomentumForm
	Buffers map[string][]T
}

// State returns a copy of the optimiser's state.
func (s *SGD[T]) State() State[T] {
	st := State[T]{Step: s.k, Form: s.form}
	if s.form != None {
		st.Buffers = make(map[string][]T, len(s.params))
		for i, p := range s.params {
			st.Buffers[p.Name()] = append([]T(nil), s.bufs[i]...)
		}
	}
	return st
}

// SetState restores a state returned by State (of an optimiser over
// parameters with the same names and sizes), copying the buffers. It
// returns an error, and changes nothing, if st.Step is negative, st.Form
// differs from the optimiser's form, or the buffers do not match the
// parameters by name and length (for form None: if there are any).
func (s *SGD[T]) SetState(st State[T]) error {
	if st.Step < 0 {
		return fmt.Errorf("optim: SetState: step %d is negative", st.Step)
	}
	if st.Form != s.form {
		return fmt.Errorf("optim: SetState: state of form %v, optimiser of form %v", st.Form, s.form)
	}
	if s.form == None && len(st.Buffers) != 0 {
		return fmt.Errorf("optim: SetState: %d buffers for form none (want none)", len(st.Buffers))
	}
	if s.form != None {
		if len(st.Buffers) != len(s.params) {
			return fmt.Errorf("optim: SetState: %d buffers for %d parameters", len(st.Buffers), len(s.params))
		}
		for i, p := range s.params {
			b, ok := st.Buffers[p.Name()]
			if !ok {
				return fmt.Errorf("optim: SetState: no buffer for parameter %q", p.Name())
			}
			if len(b) != len(s.bufs[i]) {
				return fmt.Errorf("optim: SetState: buffer %q has %d elements, parameter has %d", p.Name(), len(b), len(s.bufs[i]))
			}
		}
		for i, p := range s.params {
			copy(s.bufs[i], st.Buffers[p.Name()])
		}
	}
	s.k = st.Step
	return nil
}
