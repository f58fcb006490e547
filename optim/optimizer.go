package optim

import (
	"fmt"
	"math"
	"slices"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/tensor"
)

// Optimizer is what every optimiser of this package is ([SGD], [Adam] and
// AdamW, [RMSProp], [Adagrad]), and what the training loop and package
// checkpoint use.
//
// Step applies one update to every parameter from its current Grad at rate
// Rate() = Schedule().Rate(StepCount()), then advances the step count.
// State returns a copy of everything a resumed run needs; SetState
// restores one, all or nothing.
type Optimizer[T tensor.Float] interface {
	Step()
	Rate() float64
	StepCount() int
	Schedule() Schedule
	State() State[T]
	SetState(State[T]) error
	String() string
}

// State is an optimiser's resumable state: its kind, the step counter, the
// names of the state buffers each parameter has (its slots) and the
// buffers, and the schedule's state if it has one (a Plateau).
//
// Kind names the algorithm and variant whose buffers these are, e.g.
// "sgd/heavyball", "adam", "adamw", "rmsprop", "adagrad"; Slots follow
// PyTorch's state names ("momentum_buffer", "exp_avg", "exp_avg_sq",
// "square_avg", "grad_avg", "sum"). Buffers maps a parameter's name to one
// slice per slot, in Slots' order, each of the parameter's length in
// row-major order; it is nil when there are no slots. Hyperparameters are
// not part of the state: they come from the code or flags that build the
// optimiser (String describes them).
type State[T tensor.Float] struct {
	Kind    string
	Step    int
	Slots   []string
	Buffers map[string][][]T
	Plateau *PlateauState
}

// core is what every optimiser shares: the parameters, their state
// buffers, the schedule, the step counter, and the parallel job that runs
// the update over element ranges.
type core[T tensor.Float] struct {
	name     string // the type's name, for messages: "SGD", "Adam", …
	kind     string
	params   []*autograd.Value[T]
	slots    []string
	bufs     [][][]T // bufs[p][s]: parameter p's buffer of slot s
	schedule Schedule
	k        int
	job      stepJob[T]
}

// init checks the schedule and the parameters, and sets c up with one zero
// buffer per slot and parameter.
func (c *core[T]) init(name, kind string, params []*autograd.Value[T], rate Schedule, slots []string, update func(p, a, b int)) error {
	if rate == nil {
		return fmt.Errorf("optim: New%s: nil schedule (use Constant for a fixed rate)", name)
	}
	if err := checkRate("rate", rate.Rate(0)); err != nil {
		return err
	}
	seen := make(map[string]bool, len(params))
	for i, p := range params {
		if p == nil {
			panic(fmt.Sprintf("optim: New%s: parameter %d is nil", name, i))
		}
		if seen[p.Name()] {
			panic(fmt.Sprintf("optim: New%s: two parameters named %q", name, p.Name()))
		}
		seen[p.Name()] = true
	}
	c.name, c.kind, c.schedule, c.slots = name, kind, rate, slots
	c.params = append([]*autograd.Value[T](nil), params...)
	c.bufs = make([][][]T, len(params))
	for i, p := range params {
		c.bufs[i] = make([][]T, len(slots))
		for s := range slots {
			c.bufs[i][s] = make([]T, p.Data().Len())
		}
	}
	c.job.init(c.params, update)
	return nil
}

func (c *core[T]) typeName() string { return c.name }

// Rate returns ε_k, the rate the next Step will use.
func (c *core[T]) Rate() float64 { return c.schedule.Rate(c.k) }

// StepCount returns k, the number of Steps taken (or restored by SetState).
func (c *core[T]) StepCount() int { return c.k }

// Schedule returns the schedule that gives the rates.
func (c *core[T]) Schedule() Schedule { return c.schedule }

// begin checks the rate and the gradients before a Step and returns the
// rate.
func (c *core[T]) begin() float64 {
	rate := c.Rate()
	if !(rate >= 0) || math.IsInf(rate, 1) {
		panic(fmt.Sprintf("optim: Step: schedule %v gave rate %v at step %d", c.schedule, rate, c.k))
	}
	for _, p := range c.params {
		if p.Grad() == nil {
			panic(fmt.Sprintf("optim: Step: parameter %q has no gradient", p.Name()))
		}
	}
	return rate
}

// run updates every parameter (the optimiser's update function over
// element ranges, split across cores for large models) and advances k.
func (c *core[T]) run() {
	c.job.run()
	c.k++
}

// ranges returns parameter p's values, gradient and buffers restricted to
// elements [a, b); bufs is filled into dst (len(c.slots) long).
func (c *core[T]) ranges(p, a, b int, dst [][]T) (theta, grad []T) {
	for s := range dst {
		dst[s] = c.bufs[p][s][a:b]
	}
	return c.params[p].Data().Data()[a:b], c.params[p].Grad().Data()[a:b]
}

// State returns a copy of the optimiser's state.
func (c *core[T]) State() State[T] {
	st := State[T]{Kind: c.kind, Step: c.k, Slots: slices.Clone(c.slots)}
	if len(c.slots) > 0 {
		st.Buffers = make(map[string][][]T, len(c.params))
		for i, p := range c.params {
			bs := make([][]T, len(c.slots))
			for s := range bs {
				bs[s] = slices.Clone(c.bufs[i][s])
			}
			st.Buffers[p.Name()] = bs
		}
	}
	if pl, ok := c.schedule.(*Plateau); ok {
		ps := pl.State()
		st.Plateau = &ps
	}
	return st
}

// SetState restores a state returned by State of an optimiser of the same
// kind over parameters with the same names and sizes, copying the buffers.
// It returns an error, and changes nothing, if st.Step is negative, the
// kind or the slots differ, the buffers do not match the parameters by
// name, number and length, or the schedule's state does not fit (a Plateau
// state without a Plateau schedule, or the reverse, or one it rejects).
func (c *core[T]) SetState(st State[T]) error {
	if st.Step < 0 {
		return fmt.Errorf("optim: SetState: step %d is negative", st.Step)
	}
	if st.Kind != c.kind {
		return fmt.Errorf("optim: SetState: state of a %q optimiser, this one is %q", st.Kind, c.kind)
	}
	if !slices.Equal(st.Slots, c.slots) {
		return fmt.Errorf("optim: SetState: state buffers %q, this %s keeps %q", st.Slots, c.name, c.slots)
	}
	if len(c.slots) == 0 && len(st.Buffers) != 0 {
		return fmt.Errorf("optim: SetState: %d buffers for an optimiser without state buffers", len(st.Buffers))
	}
	if len(c.slots) > 0 {
		if len(st.Buffers) != len(c.params) {
			return fmt.Errorf("optim: SetState: buffers for %d parameters, the optimiser has %d", len(st.Buffers), len(c.params))
		}
		for i, p := range c.params {
			bs, ok := st.Buffers[p.Name()]
			if !ok {
				return fmt.Errorf("optim: SetState: no buffer for parameter %q", p.Name())
			}
			if len(bs) != len(c.slots) {
				return fmt.Errorf("optim: SetState: parameter %q has %d buffers, want %d (%q)", p.Name(), len(bs), len(c.slots), c.slots)
			}
			for s, b := range bs {
				if len(b) != len(c.bufs[i][s]) {
					return fmt.Errorf("optim: SetState: buffer %s of %q has %d elements, parameter has %d", c.slots[s], p.Name(), len(b), len(c.bufs[i][s]))
				}
			}
		}
	}
	pl, isPlateau := c.schedule.(*Plateau)
	switch {
	case isPlateau && st.Plateau == nil:
		return fmt.Errorf("optim: SetState: the schedule is %v, the state has no plateau state", pl)
	case !isPlateau && st.Plateau != nil:
		return fmt.Errorf("optim: SetState: the state has a plateau state, the schedule %v is not a Plateau", c.schedule)
	case isPlateau:
		if err := pl.SetState(*st.Plateau); err != nil {
			return err
		}
	}
	for i, p := range c.params {
		for s := range c.slots {
			copy(c.bufs[i][s], st.Buffers[p.Name()][s])
		}
	}
	c.k = st.Step
	return nil
}
